# Handrail developer commands. Everything the project needs is installed from here.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run demo test test-postgres test-redis lint format benchmark benchmark-data-scale benchmark-load benchmark-handout benchmark-library benchmark-claims snapshots clean

$(STAMP): pyproject.toml requirements/constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The clinic web app: migrate, load the synthetic demo clinic on first run, serve :8000.
run: $(STAMP)
	$(BIN)/python -m handrail.web.serve

# A worked OT visit through the command line (the rules engine alone).
demo: $(STAMP)
	$(BIN)/python -m handrail.demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

# The web tests on PostgreSQL (`make test` uses it too when HANDRAIL_TEST_DATABASE_URL is set).
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-postgres: $(STAMP)
	HANDRAIL_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n 2 tests/web

# With a real Redis (REDIS_URL); database 15 of the local server (the tests empty it):
# the cache, sign-in counter and reload-signal tests, then the task, worker and messaging
# tests again with the tasks on RQ (django-tasks-rq) instead of the database queue.
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
REDIS_TASK_TESTS := tests/web/test_worker.py tests/web/test_messaging.py tests/web/test_portal_messages.py tests/web/test_reminder_schedule.py tests/web/test_pattern_hub.py
test-redis: $(STAMP)
	HANDRAIL_TEST_REDIS_URL=$(REDIS_TEST_URL) $(BIN)/python -m pytest tests/web/test_redis.py tests/web/test_redis_state.py
	HANDRAIL_TEST_REDIS_URL=$(REDIS_TEST_URL) HANDRAIL_TEST_TASK_BACKEND=rq $(BIN)/python -m pytest $(REDIS_TASK_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

benchmark: $(STAMP)
	$(BIN)/python benchmarks/batch_throughput.py

# 837P export: check + write 10,000 claims against pyx12's validation of the same file.
# Then reading + balancing a 10,000-claim 835 (and writing the 837P again), each against
# pyx12's validation of the same file (CLAIMS_ARGS="--claims 1000" for a quicker run).
benchmark-claims: $(STAMP)
	$(BIN)/python benchmarks/claims_export.py
	$(BIN)/python benchmarks/claims_x12.py $(CLAIMS_ARGS)

# The clinic's pages at 5,000 patients and 50,000 signed visits against the demo clinic
# (SQLite in benchmarks/out/; DATA_SCALE_ARGS="--database-url postgresql://..." for PostgreSQL).
benchmark-data-scale: $(STAMP)
	$(BIN)/python benchmarks/data_scale.py $(DATA_SCALE_ARGS)

# 50 clinicians autosaving notes and a biller reloading the worklists against gunicorn on
# PostgreSQL (LOAD_ARGS="--database-url postgresql://..." for another database; it is emptied).
benchmark-load: $(STAMP)
	$(BIN)/python benchmarks/load_clinicians.py $(LOAD_ARGS)

# The handout PDF of a 12-item program with pictures, against a plain reportlab floor.
benchmark-handout: $(STAMP)
	$(BIN)/python benchmarks/handout_pdf.py

# The builder's library search over 5,000 entries, against a floor of the same page of rows
# read with no condition.
benchmark-library: $(STAMP)
	$(BIN)/python benchmarks/library_search.py

snapshots: $(STAMP)
	$(BIN)/python -m tests.rules.generate_snapshots

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
