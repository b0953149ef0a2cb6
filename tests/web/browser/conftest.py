"""Browser tests: pytest-playwright driving Debian's chromium against Django's live server.

Never `playwright install` (it downloads browsers from a CDN): the tests use the chromium
of the system (`apt-get install -y chromium`, done by .ci/run) and skip when it is missing.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import BrowserContext

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in an
# async context unless told it is safe (the tests are single-threaded on their side).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Offline, headless, no sandbox (containers run as root); no background network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"chromium not found at {CHROMIUM}: install Debian's chromium "
            "(apt-get install -y chromium) to run the browser tests"
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# Shifts the page's Date (and Date.now) by the server's time travel, leaving the timer
# functions alone: Playwright's clock API would fake setTimeout too, and the note page's
# debounced saves then raced (2 of 8 runs lost an update).
_SHIFT_DATE = """
(() => {
  const offset = %d;
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) { super(RealDate.now() + offset); } else { super(...args); }
    }
    static now() { return RealDate.now() + offset; }
  }
  globalThis.Date = ShiftedDate;
})();
"""


@pytest.fixture(autouse=True)
def _browser_clock(context: BrowserContext) -> None:
    """The page's clock shows the server's: the web tests run on a fixed day (TEST_NOW in
    tests/web/conftest.py), and the note page's timers send times the server checks."""
    real_now = time_machine.escape_hatch.time.time()
    offset_ms = round((datetime.now(UTC).timestamp() - real_now) * 1000)
    context.add_init_script(_SHIFT_DATE % offset_ms)
