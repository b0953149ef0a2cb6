"""Fee schedule status codes: only A, R and T rows are paid (RVU file documentation)."""

from __future__ import annotations

import string

import pytest

from handrail.rules.fee_status import FEE_STATUSES, fee_status, not_paid_reason


class FeeStatusTests:
    def test_it_pays_only_a_r_and_t(self) -> None:
        assert sorted(code for code, status in FEE_STATUSES.items() if status.paid) == [
            "A",
            "R",
            "T",
        ]
        assert sorted(FEE_STATUSES) == sorted("ABCDEFGHIJMNPRTX")

    @pytest.mark.parametrize(
        "letter", sorted(set(string.ascii_uppercase) - set("ABCDEFGHIJMNPRTX"))
    )
    def test_it_treats_an_undocumented_letter_as_unpaid(self, letter: str) -> None:
        assert (
            not_paid_reason(letter) == "a status code the RVU file documentation does not define"
        )

    @pytest.mark.parametrize(
        ("letter", "reason"),
        [
            ("A", None),
            ("R", None),
            ("T", None),
            ("B", "bundled into other services"),
            ("I", "not valid for Medicare"),
            ("N", "not covered by Medicare"),
            ("X", "statutory exclusion: not a physician service under the fee schedule"),
            ("C", "priced by the Medicare contractor (MAC) case by case"),
        ],
    )
    def test_it_says_why_a_status_is_not_paid(self, letter: str, reason: str | None) -> None:
        assert not_paid_reason(letter) == reason

    def test_it_states_the_condition_of_a_conditionally_paid_status(self) -> None:
        assert fee_status("A").caveat == ""
        assert fee_status("R").caveat.startswith("paid only when Medicare's special coverage")
        assert fee_status("T").caveat.startswith("paid only when no other fee schedule service")
