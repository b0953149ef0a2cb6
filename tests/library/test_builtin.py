"""The built-in library: the whole data set validated, the strict loader, dose validation."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tomllib
from collections import Counter
from dataclasses import fields
from pathlib import Path

import pytest

from handrail.library import (
    ADLS,
    DOSE_LIMITS,
    EQUIPMENT,
    KIND_CODES,
    LIBRARY_RELEASE,
    REGIONS,
    Dose,
    Entry,
    Kind,
    LibraryDataError,
    builtin_entries,
    dose_errors,
    entry,
    load_entries,
    parse_library_file,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "handrail" / "library" / "data"
# Everkinetic's exercise data is never committed: next to the repository, or where
# HANDRAIL_EXERCISE_MEDIA_DIR says (a checkout elsewhere, e.g. a git worktree).
MEDIA_DIR = Path(
    os.environ.get("HANDRAIL_EXERCISE_MEDIA_DIR")
    or ROOT / ".." / "shared" / "data" / "exercise-media"
)

# What the library must cover (issue 8).
MIN_TOTAL = 150
MIN_SELF_CARE = 60
MIN_EXERCISE = 80
MIN_EDUCATION = 5
MIN_PER_ADL = 5
MIN_PER_REGION = 5
EXERCISE_REGIONS = ("low-back", "neck", "shoulder", "knee", "hip", "ankle", "balance", "hand")
# 97535's scope beyond the six basic ADLs, as topics of self-care entries.
SELF_CARE_TOPICS = (
    "meal preparation",
    "adaptive equipment",
    "safety procedures",
    "wound care",
    "edema control",
    "sleeping positions",
    "home TENS",
    "home traction",
    "home paraffin",
    "activity modification",
    "home set-up",
    "household chores",
    "signs of infection",
    "transfer training",
    "community reintegration",
    "work reintegration",
)


def entries() -> tuple[Entry, ...]:
    return builtin_entries()


class BuiltinLibraryTests:
    def test_it_holds_enough_entries_of_each_kind(self) -> None:
        kinds = Counter(e.kind for e in entries())
        assert len(entries()) >= MIN_TOTAL
        assert kinds[Kind.SELF_CARE] >= MIN_SELF_CARE
        assert kinds[Kind.EXERCISE] >= MIN_EXERCISE
        assert kinds[Kind.EDUCATION] >= MIN_EDUCATION

    def test_it_covers_the_six_basic_adls(self) -> None:
        adls = Counter(e.adl for e in entries() if e.adl)
        for adl in ADLS:
            assert adls[adl] >= MIN_PER_ADL, adl

    def test_it_covers_the_exercise_regions(self) -> None:
        for region in EXERCISE_REGIONS:
            count = sum(1 for e in entries() if e.kind is Kind.EXERCISE and region in e.regions)
            assert count >= MIN_PER_REGION, region

    def test_it_covers_the_scope_of_97535(self) -> None:
        topics = Counter(t for e in entries() if e.kind is Kind.SELF_CARE for t in e.topics)
        missing = [t for t in SELF_CARE_TOPICS if topics[t] == 0]
        assert missing == []

    def test_it_bills_community_and_work_training_as_97537(self) -> None:
        for e in entries():
            community = {"community reintegration", "work reintegration"} & set(e.topics)
            if e.kind is Kind.SELF_CARE:
                assert (e.billing_code == "97537") == bool(community), e.key

    def test_it_gives_each_basic_adl_entry_the_97535_code(self) -> None:
        for e in entries():
            if e.adl is not None:
                assert e.billing_code == "97535", e.key

    def test_it_names_hip_precautions_where_they_apply(self) -> None:
        posterior = entry("dressing-lower-body-posterior-hip-precautions")
        assert any("90 degrees" in p for p in posterior.precautions)
        assert any("cross" in p for p in posterior.precautions)
        for e in entries():
            if "hip precautions" in e.topics:
                assert any("precaution" in p.casefold() or "cross" in p for p in e.precautions), (
                    e.key
                )

    def test_it_sorts_by_key_and_keys_and_titles_are_unique(self) -> None:
        keys = [e.key for e in entries()]
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)
        titles = [e.title.casefold() for e in entries()]
        assert len(set(titles)) == len(titles)

    def test_it_fills_every_field(self) -> None:
        for e in entries():
            for f in fields(Entry):
                value = getattr(e, f.name)
                if f.name == "equipment":
                    continue  # an empty tuple means no equipment is needed
                if f.name == "adl":
                    # only self-care entries name a basic ADL; others are home management etc.
                    assert value is None or e.kind is Kind.SELF_CARE, e.key
                    continue
                assert value not in ("", (), None), f"{e.key}.{f.name}"
            assert e.version >= 1
            assert all(s.endswith((".", "?", "!")) for s in e.steps), e.key
            assert e.summary.endswith("."), e.key

    def test_it_uses_only_the_vocabularies(self) -> None:
        for e in entries():
            assert set(e.regions) <= set(REGIONS), e.key
            assert set(e.equipment) <= set(EQUIPMENT), e.key
            assert set(e.disciplines) <= {"PT", "OT", "SLP"}, e.key
            assert e.adl is None or e.adl in ADLS, e.key

    def test_it_keeps_every_dose_within_the_limits(self) -> None:
        for e in entries():
            assert dose_errors(e.dose) == {}, e.key
            for name, (low, high) in DOSE_LIMITS.items():
                value = getattr(e.dose, name)
                assert value is None or low <= value <= high, f"{e.key}.{name}"

    def test_it_bills_each_kind_under_its_own_codes(self) -> None:
        for e in entries():
            assert e.billing_code in KIND_CODES[e.kind], e.key
            if e.kind is Kind.EXERCISE:
                assert e.billing_code != "97535", e.key
        assert KIND_CODES == {
            Kind.SELF_CARE: ("97535", "97537"),
            Kind.EXERCISE: ("97110", "97112", "97530"),
            Kind.EDUCATION: ("97535",),
        }

    def test_it_finds_an_entry_by_key(self) -> None:
        first = entries()[0]
        assert entry(first.key) is first
        with pytest.raises(KeyError, match="no-such-entry"):
            entry("no-such-entry")

    def test_it_names_the_release_in_every_file(self) -> None:
        for path in sorted(DATA.glob("*.toml")):
            header = tomllib.loads(path.read_text(encoding="utf-8"))["library"]
            assert header["release"] == LIBRARY_RELEASE
            assert path.read_text(encoding="utf-8").startswith("# Handrail built-in")

    def test_it_ships_every_data_file_in_the_wheel(self) -> None:
        config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        patterns = config["tool"]["setuptools"]["package-data"]["handrail.library"]
        files = sorted(DATA.glob("*"))
        assert files
        for path in files:
            assert any(fnmatch.fnmatch(f"data/{path.name}", p) for p in patterns), path.name


def _phrases(text: str, size: int = 8) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.casefold())
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


class OwnWordsTests:
    @pytest.mark.skipif(
        not (MEDIA_DIR / "everkinetic" / "exercises.json").is_file(),
        reason="Everkinetic data not present next to the repository",
    )
    def test_it_copies_no_text_from_everkinetic(self) -> None:
        data = json.loads((MEDIA_DIR / "everkinetic" / "exercises.json").read_text("utf-8"))
        theirs: set[str] = set()
        titles: set[str] = set()
        for item in data:
            titles.add(item["title"].casefold())
            for text in [item["primer"], *item["steps"], *item.get("tips", [])]:
                theirs |= _phrases(text)
        for e in entries():
            assert e.title.casefold() not in titles, e.key
            for text in [e.summary, *e.steps, *e.cues, *e.precautions]:
                shared = _phrases(text) & theirs
                assert not shared, f"{e.key}: {sorted(shared)[0]!r}"


HEADER = """
[library]
release = "2026.12"
group = "Test"
source = "test"
"""

GOOD = """
[[entry]]
key = "test-entry"
version = 1
title = "A test entry"
kind = "exercise"
summary = "Something to do."
regions = ["knee"]
disciplines = ["PT"]
position = "Sitting"
equipment = []
steps = ["Do it."]
cues = ["Slowly."]
precautions = ["Stop if it hurts."]
dose = { sets = 2, reps = 10 }
billing_code = "97110"
topics = ["test"]
"""


class LoaderTests:
    def test_it_loads_a_good_file(self) -> None:
        (item,) = parse_library_file(HEADER + GOOD, "good.toml")
        assert item.dose == Dose(sets=2, reps=10)
        assert item.kind is Kind.EXERCISE
        assert item.adl is None
        assert item.equipment == ()

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            ('topics = ["test"]', 'topics = ["test"]\ncolour = "red"', "colour: unknown field"),
            ('topics = ["test"]\n', "", "topics: missing"),
            ('regions = ["knee"]', 'regions = ["elbw"]', "regions: 'elbw' is not one of"),
            ("equipment = []", 'equipment = ["trampoline"]', "equipment: 'trampoline' is not"),
            ('"97110"', '"97535"', "billing_code: 97535 is not allowed for exercise entries"),
            ('"97110"', '"97999"', "billing_code: 97999 is not allowed"),
            ("sets = 2", "sets = 500", "dose.sets: Sets must be from 1 to 10; 500"),
            ("sets = 2", "sets = 0", "dose.sets: Sets must be from 1 to 10; 0"),
            ("sets = 2, reps = 10", "sets = 2", "dose.reps: Give repetitions"),
            ("sets = 2", "laps = 2", "dose.laps: unknown dose field"),
            ("sets = 2", 'sets = "2"', "dose.sets: must be a whole number"),
            ('kind = "exercise"', 'kind = "stretch"', "kind: 'stretch' is not one of"),
            ('key = "test-entry"', 'key = "Test Entry"', "key: must be a slug"),
            ("version = 1", "version = 0", "version: must be a whole number from 1"),
            ('steps = ["Do it."]', "steps = []", "steps: must not be empty"),
            ('steps = ["Do it."]', 'steps = ["Do it.", "Do it."]', "steps: lists an item twice"),
            ('title = "A test entry"', 'title = " A test"', "title: has leading"),
            ('topics = ["test"]', 'topics = ["test"]\nadl = "dressing"', "adl: only self-care"),
            ('topics = ["test"]', 'topics = ["test"]\nadl = "juggling"', "adl: 'juggling'"),
        ],
    )
    def test_it_refuses_a_bad_entry_naming_file_and_key(
        self, old: str, new: str, message: str
    ) -> None:
        assert old in GOOD
        with pytest.raises(LibraryDataError) as raised:
            parse_library_file(HEADER + GOOD.replace(old, new), "bad.toml")
        text = str(raised.value)
        assert text.startswith("bad.toml: entry "), text
        assert message in text

    def test_it_names_the_entry_by_key(self) -> None:
        with pytest.raises(LibraryDataError, match=r"^bad.toml: entry 'test-entry': dose.sets"):
            parse_library_file(HEADER + GOOD.replace("sets = 2", "sets = 11"), "bad.toml")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (GOOD, "bad.toml: [library]: missing header table"),
            (HEADER, "bad.toml: [[entry]]: the file holds no entries"),
            (HEADER.replace("2026.12", "2020.01") + GOOD, "release: '2020.01' is not"),
            (HEADER + 'licence = "x"\n' + GOOD, "licence: the header has exactly"),
            (HEADER + GOOD + "[extra]\n", "top level: extra: unknown table"),
            (HEADER + GOOD + "key = ", "bad.toml: TOML: "),
        ],
    )
    def test_it_refuses_a_bad_file(self, text: str, message: str) -> None:
        with pytest.raises(LibraryDataError) as raised:
            parse_library_file(text, "bad.toml")
        assert message in str(raised.value)

    def test_it_refuses_a_key_or_title_used_twice(self) -> None:
        other = GOOD.replace('title = "A test entry"', 'title = "Another"')
        with pytest.raises(LibraryDataError, match="b.toml: entry 'test-entry': key: already"):
            load_entries([("a.toml", HEADER + GOOD), ("b.toml", HEADER + other)])
        renamed = GOOD.replace('key = "test-entry"', 'key = "other"')
        with pytest.raises(LibraryDataError, match="title: 'A test entry' is already the title"):
            load_entries([("a.toml", HEADER + GOOD), ("b.toml", HEADER + renamed)])


class DoseErrorsTests:
    @pytest.mark.parametrize(
        ("dose", "expected"),
        [
            (Dose(sets=3, reps=10), {}),
            (Dose(hold_seconds=30), {}),
            (Dose(minutes=20, days_per_week=7), {}),
            (
                Dose(sets=1, reps=1, hold_seconds=1, times_per_day=1, days_per_week=1, minutes=1),
                {},
            ),
            (
                Dose(
                    sets=10,
                    reps=100,
                    hold_seconds=300,
                    times_per_day=12,
                    days_per_week=7,
                    minutes=120,
                ),
                {},
            ),
            (Dose(sets=0, reps=10), {"sets": "Sets must be from 1 to 10; 0 is out of range."}),
            (Dose(sets=11, reps=10), {"sets": "Sets must be from 1 to 10; 11 is out of range."}),
            (Dose(reps=101), {"reps": "Repetitions must be from 1 to 100; 101 is out of range."}),
            (
                Dose(hold_seconds=301),
                {"hold_seconds": "Hold (seconds) must be from 1 to 300; 301 is out of range."},
            ),
            (
                Dose(reps=5, times_per_day=13),
                {"times_per_day": "Times a day must be from 1 to 12; 13 is out of range."},
            ),
            (
                Dose(reps=5, days_per_week=8),
                {"days_per_week": "Days a week must be from 1 to 7; 8 is out of range."},
            ),
            (
                Dose(minutes=121),
                {"minutes": "Minutes must be from 1 to 120; 121 is out of range."},
            ),
            (
                Dose(sets=3),
                {"reps": "Give repetitions, a hold time or minutes: the dose says nothing to do."},
            ),
            (
                Dose(),
                {"reps": "Give repetitions, a hold time or minutes: the dose says nothing to do."},
            ),
            (
                Dose(reps=-1),
                {"reps": "Repetitions must be from 1 to 100; -1 is out of range."},
            ),
        ],
    )
    def test_it_names_each_field_out_of_range(self, dose: Dose, expected: dict[str, str]) -> None:
        assert dose_errors(dose) == expected

    def test_it_refuses_a_value_that_is_not_a_whole_number(self) -> None:
        dose = Dose(sets=2.5, reps=True)  # type: ignore[arg-type]
        assert dose_errors(dose) == {
            "sets": "Sets must be a whole number from 1 to 10.",
            "reps": "Repetitions must be a whole number from 1 to 100.",
        }

    def test_it_gives_the_dose_in_field_order(self) -> None:
        assert Dose(1, 2, 3, 4, 5, 6).as_tuple() == (1, 2, 3, 4, 5, 6)
