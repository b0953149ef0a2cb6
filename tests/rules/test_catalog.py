"""The code catalog and its plain-language text (our own words, never AMA/CMS descriptors)."""

from __future__ import annotations

import re

from handrail.rules.catalog import CATALOG, TimeRule
from handrail.rules.catalog_text import CODE_TEXT, TIMED, UNTIMED

# CMS Pub 100-04 ch.5 §20.2: codes reported in 15-minute units.
TIMED_15_CODES = frozenset(
    {
        "97110",
        "97112",
        "97116",
        "97140",
        "97530",
        "97533",
        "97535",
        "97537",
        "97542",
        "97750",
        "97755",
        "97760",
        "97761",
        "97763",
        "97032",
        "97033",
        "97034",
        "97035",
        "97036",
    }
)
UNTIMED_CODES = frozenset(
    {
        "97150",
        "97552",
        "97161",
        "97162",
        "97163",
        "97164",
        "97165",
        "97166",
        "97167",
        "97168",
        "97010",
        "97012",
        "97014",
        "97016",
        "97018",
        "97022",
        "97024",
        "97026",
        "97028",
        "G0283",
        "92507",
        "92526",
    }
)

# Distinctive phrases of AMA CPT descriptors: none may appear in our text.
AMA_PHRASES = (
    "direct (one-on-one) patient contact",
    "direct one-on-one contact",
    "each 15 minutes",
    "each additional 15 minutes",
    "initial 30 minutes",
    "1 or more areas",
    "to develop strength and endurance",
    "activities of daily living (ADL) and compensatory training",
    "use of dynamic activities to improve functional performance",
    "instructions in use of assistive technology devices",
    "kinesthetic sense",
    "avocational activities",
    "work environment/modification analysis",
    "adaptive responses to environmental demands",
    "when not otherwise reported",
    "with written report",
    "initial orthotic(s) encounter",
    "strategies and techniques to facilitate the patient's functional performance",
    "face-to-face with multiple sets of caregivers",
    "stable and/or uncomplicated characteristics",
)

# Short descriptions of the CMS PPRRVU files (derived from AMA text): none may appear either.
CMS_SHORT_NAMES = (
    "Self care mngment training",
    "Therapeutic exercises",
    "Neuromuscular reeducation",
    "Gait training therapy",
    "Manual therapy 1/> regions",
    "Group therapeutic procedures",
    "Therapeutic activities",
    "Community/work reintegration",
    "Wheelchair mngment training",
    "Caregiver traing 1st 30 min",
    "Caregiver traing ea addl 15",
    "Group caregiver training",
    "Pt eval low complex 20 min",
    "Pt eval mod complex 30 min",
    "Pt eval high complex 45 min",
    "Pt re-eval est plan care",
    "Ot eval low complex 30 min",
    "Ot eval mod complex 45 min",
    "Ot eval high complex 60 min",
    "Ot re-eval est plan care",
    "Physical performance test",
    "Orthotic mgmt&traing 1st enc",
    "Prosthetic traing 1st enc",
    "Orthc/prostc mgmt sbsq enc",
    "Hot or cold packs therapy",
    "Electric stimulation therapy",
    "Elec stim other than wound",
    "Appl modality 1+estim ea 15",
    "App mdlty 1+ultrasound ea 15",
)


def _all_text(code: str) -> str:
    text = CODE_TEXT[code]
    return " ".join((text.summary, *text.boundaries))


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", text))


class CatalogTextTests:
    def test_it_has_text_for_every_catalog_code_and_nothing_else(self) -> None:
        assert sorted(CODE_TEXT) == sorted(CATALOG)

    def test_it_serves_the_text_through_the_catalog(self) -> None:
        spec = CATALOG["97535"]
        assert spec.summary == CODE_TEXT["97535"].summary
        assert spec.boundaries == CODE_TEXT["97535"].boundaries

    def test_it_keeps_summaries_to_one_or_two_sentences(self) -> None:
        too_long = {
            code: _sentences(text.summary)
            for code, text in CODE_TEXT.items()
            if not 1 <= _sentences(text.summary) <= 2
        }
        assert too_long == {}

    def test_it_gives_two_to_four_boundaries_per_code(self) -> None:
        counts = {
            code: len(text.boundaries)
            for code, text in CODE_TEXT.items()
            if not 2 <= len(text.boundaries) <= 4
        }
        assert counts == {}

    def test_it_contains_no_ama_descriptor_phrase(self) -> None:
        found = [
            (code, phrase)
            for code in CODE_TEXT
            for phrase in AMA_PHRASES
            if phrase.lower() in _all_text(code).lower()
        ]
        assert found == []

    def test_it_contains_no_cms_short_name(self) -> None:
        found = [
            (code, name)
            for code in CODE_TEXT
            for name in CMS_SHORT_NAMES
            if name.lower() in _all_text(code).lower()
        ]
        assert found == []

    def test_it_states_the_time_rule_of_timed_codes(self) -> None:
        missing = [code for code in sorted(TIMED_15_CODES) if TIMED not in CODE_TEXT[code].summary]
        assert missing == []

    def test_it_states_the_time_rule_of_untimed_codes(self) -> None:
        missing = [
            code
            for code in sorted(UNTIMED_CODES)
            if "Untimed: one unit per day" not in CODE_TEXT[code].summary
        ]
        assert missing == []
        assert UNTIMED.startswith("Untimed: one unit per day")

    def test_it_states_the_caregiver_time_rules(self) -> None:
        assert "first 30 minutes" in CODE_TEXT["97550"].summary
        assert "each further 15 minutes" in CODE_TEXT["97551"].summary

    def test_it_draws_the_97535_boundaries(self) -> None:
        boundaries = " ".join(CODE_TEXT["97535"].boundaries)
        for neighbour in ("97550-97552", "97110", "97530", "97537"):
            assert neighbour in boundaries
        assert "toileting or bathing routine is 97535" in boundaries

    def test_it_names_the_medicare_quirks(self) -> None:
        assert "G0283" in CODE_TEXT["97014"].summary
        assert "status I" in CODE_TEXT["97014"].summary
        assert "bundles" in CODE_TEXT["97010"].summary
        assert "status B" in CODE_TEXT["97010"].summary


class CatalogTimeRuleTests:
    def test_it_marks_exactly_the_timed_15_minute_codes(self) -> None:
        timed = {code for code, spec in CATALOG.items() if spec.time_rule is TimeRule.TIMED_15}
        assert timed == TIMED_15_CODES

    def test_it_marks_exactly_the_untimed_codes(self) -> None:
        untimed = {code for code, spec in CATALOG.items() if spec.time_rule is TimeRule.UNTIMED}
        assert untimed == UNTIMED_CODES

    def test_it_gives_the_caregiver_codes_their_own_time_rules(self) -> None:
        assert CATALOG["97550"].time_rule is TimeRule.CAREGIVER_FIRST_30
        assert CATALOG["97551"].time_rule is TimeRule.CAREGIVER_EACH_15
        assert CATALOG["97551"].add_on_to == "97550"

    def test_it_covers_every_code_with_exactly_one_time_rule_set(self) -> None:
        caregiver = {"97550", "97551"}
        assert TIMED_15_CODES | UNTIMED_CODES | caregiver == set(CATALOG)
        assert not TIMED_15_CODES & UNTIMED_CODES

    def test_it_points_medicare_from_97014_to_g0283(self) -> None:
        assert CATALOG["97014"].medicare_replacement == "G0283"
        assert CATALOG["G0283"].medicare_replacement is None
