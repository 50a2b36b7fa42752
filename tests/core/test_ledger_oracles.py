"""Independent oracles for the ledger of claims: order, composition, caps and the words of each note.

Why: ``count_claims`` decides how much of a bill each finding may call its saving, and its
notes are what a reader sees when a saving is smaller than the rule's estimate. Each case
below is a few hand-built claims on a small bill; what each claim counts is worked out in
the comments from the ledger's documented rules (narrow claims first, larger standalone
saving first, ties by label; a part's fraction of what is left of the part; a whole claim's
fraction of what is left of the resource), never with a helper of ``analyzer.core.ledger``.
"""

from __future__ import annotations

import pytest

from analyzer.core.findings import Claim, Finding
from analyzer.core.ledger import ClaimRequest, count_claims, saving_usd, superseded


def req(label: str, asked: float, part: str = "", size: float | None = None, *, resource: str = "R",
        usd: float = 1.0, cost: float = 0.0, proportional: bool = False,
        unit: str = "credits") -> ClaimRequest:
    return ClaimRequest(label=label, resource=resource, unit=unit, asked=asked, usd_per_unit=usd, part=part,
                        part_capacity=size, change_cost_usd=cost, proportional=proportional)


def counted(claims: list[Claim]) -> list[float]:
    return [c.counted for c in claims]


# --- claims on the whole resource ------------------------------------------------------------------


def test_whole_claims_take_their_fraction_of_what_is_left_largest_first() -> None:
    # Bill of 10. b (5 of 10, $5 alone) goes first: half of 10 = 5. a (4 of 10) then: 0.4 x 5 left = 2.
    a, b = count_claims([req("a", 4), req("b", 5, usd=1.0)], {"R": 10})
    assert (a.counted, b.counted) == (pytest.approx(2.0), pytest.approx(5.0))
    assert a.overlaps_with == ("b",) and b.overlaps_with == ()
    assert a.note == "counted after b: 2 of the 4 credits asked were still billed on R"
    assert b.note == ""
    fields = (a.resource, a.unit, a.asked, a.usd_per_unit, a.part, a.change_cost_usd)
    assert fields == ("R", "credits", 4, 1.0, "", 0.0)


def test_the_order_is_by_saving_net_of_the_change_then_by_label() -> None:
    # b asks 5 but its change costs $2: $3 alone, below a's $4, so a goes first: 4 of 10; b: 0.5 x 6 = 3.
    a, b = count_claims([req("a", 4), req("b", 5, cost=2.0)], {"R": 10})
    assert (a.counted, b.counted) == (pytest.approx(4.0), pytest.approx(3.0))
    assert b.change_cost_usd == 2.0 and b.overlaps_with == ("a",)
    # The price counts too: b's 5 units at $0.5 ($2.5) come after a's 4 at $1 ($4).
    a, b = count_claims([req("a", 4), req("b", 5, usd=0.5)], {"R": 10})
    assert (a.counted, b.counted) == (pytest.approx(4.0), pytest.approx(3.0))
    # Equal savings: by label. "x" is given first but "w" is counted first: 5 of 10, then x 0.5 x 5.
    x, w = count_claims([req("x", 5), req("w", 5)], {"R": 10})
    assert (w.counted, x.counted) == (pytest.approx(5.0), pytest.approx(2.5))
    assert x.overlaps_with == ("w",)


def test_a_whole_claim_above_the_bill_is_capped_and_says_so() -> None:
    (c,) = count_claims([req("a", 1_500, unit="core_hours")], {"R": 1_000})
    assert c.counted == pytest.approx(1_000)
    assert c.note == "capped at the 1,000 core-hours R billed (the rule estimated 1,500)"
    assert c.overlaps_with == ()
    (c,) = count_claims([req("a", 12, unit="widgets")], {"R": 10})  # a unit without words: its own name
    assert c.note == "capped at the 10 widgets R billed (the rule estimated 12)"


def test_a_resource_without_a_bill_counts_nothing() -> None:
    for capacity in ({}, {"R": 0.0}, {"R": -5.0}):
        whole, part = count_claims([req("a", 3), req("b", 2, "t1", 2)], capacity)
        assert (whole.counted, part.counted) == (0.0, 0.0), capacity
        assert whole.note == "capped at the 0 credits R billed (the rule estimated 3)"
        assert part.note == "capped at the 0 credits t1 of R billed (the rule estimated 2)"


def test_resources_do_not_share_their_bills() -> None:
    # a takes all of R1; b on R2 (4 billed) is capped by R2 alone and names nobody.
    a, b = count_claims([req("a", 10, resource="R1"), req("b", 5, resource="R2")], {"R1": 10, "R2": 4})
    assert (a.counted, b.counted) == (pytest.approx(10.0), pytest.approx(4.0))
    assert b.note == "capped at the 4 credits R2 billed (the rule estimated 5)" and b.overlaps_with == ()


def test_a_negative_estimate_counts_nothing_and_says_nothing() -> None:
    for request in (req("a", -3), req("a", -3, "t1", 5), req("a", -3, "q", proportional=True)):
        (c,) = count_claims([request], {"R": 10})
        assert c.counted == 0.0 and c.note == "" and c.overlaps_with == ()


# --- claims on parts -----------------------------------------------------------------------------------


def test_parts_compose_and_other_parts_do_not_overlap() -> None:
    # Bill of 100. Parts first, largest first: a (8 of t1's 10) = 8; b (5 of 10 = half of t1's 2 left) = 1;
    # d1 (all 4 of t2) = 4; d2 (half of t2's 0 left) = 0; then the whole claim w: 50 of 100 = half of the
    # 100 - 8 - 1 - 4 = 87 left = 43.5.
    a, b, d1, d2, w = count_claims([req("a", 8, "t1", 10), req("b", 5, "t1", 10), req("d1", 4, "t2", 4),
                                    req("d2", 2, "t2", 4), req("w", 50)], {"R": 100})
    assert counted([a, b, d1, d2, w]) == [8.0, 1.0, 4.0, 0.0, 43.5]
    assert (a.overlaps_with, b.overlaps_with, d1.overlaps_with, d2.overlaps_with) == ((), ("a",), (), ("d1",))
    assert b.note == "counted after a: 1 of the 5 credits asked were still billed on t1 of R"
    assert d2.note == "counted after d1: 0 of the 2 credits asked were still billed on t2 of R"
    # d2 counted nothing, so the whole claim was not counted after it.
    assert w.overlaps_with == ("a", "b", "d1")
    assert w.note == "counted after a; b; d1: 43.5 of the 50 credits asked were still billed on R"
    assert (a.note, d1.note, a.part, w.part) == ("", "", "t1", "")


def test_part_claims_go_before_larger_whole_claims() -> None:
    # The whole claim (9 of 10) is larger but goes after the part claim (2 of t1): 0.9 x 8 = 7.2.
    w, p = count_claims([req("w", 9), req("p", 2, "t1", 4)], {"R": 10})
    assert (p.counted, w.counted) == (pytest.approx(2.0), pytest.approx(7.2))
    assert w.overlaps_with == ("p",) and p.overlaps_with == ()


def test_a_part_larger_than_the_bill() -> None:
    # t1 holds 20 of a bill of 10: 8 of 20 is 0.4 of the 10 billed = 4, not a cap (8 < 10).
    (a,) = count_claims([req("a", 8, "t1", 20)], {"R": 10})
    assert a.counted == pytest.approx(4.0)
    assert a.note == "4 of the 8 credits asked were left of t1 of R" and a.overlaps_with == ()
    # 15 of t2's 20 is 0.75 of 10 = 7.5, capped (15 > the 10 billed); then a's 4 of t1 meets only the
    # 2.5 left of the whole bill: the resource, not its part, ran out.
    b, a = count_claims([req("b", 15, "t2", 20), req("a", 8, "t1", 20)], {"R": 10})
    assert (b.counted, a.counted) == (pytest.approx(7.5), pytest.approx(2.5))
    assert b.note == "capped at the 7.5 credits t2 of R billed (the rule estimated 15)"
    assert a.note == "counted after b: 2.5 of the 8 credits asked were still billed on R"
    assert a.overlaps_with == ("b",)


def test_a_part_asked_above_its_size_is_capped_at_it() -> None:
    (a,) = count_claims([req("a", 6, "t1", 4)], {"R": 10})
    assert a.counted == pytest.approx(4.0)
    assert a.note == "capped at the 4 credits t1 of R billed (the rule estimated 6)"
    (z,) = count_claims([req("z", 3, "t1", 0.0)], {"R": 10})  # an empty part
    assert z.counted == 0.0 and z.note == "capped at the 0 credits t1 of R billed (the rule estimated 3)"


def test_a_part_without_a_size_is_what_it_asks() -> None:
    # a's part is its own 3; b asks 2 of the same part, which a emptied: 0.
    a, b = count_claims([req("a", 3, "t1"), req("b", 2, "t1")], {"R": 10})
    assert (a.counted, b.counted) == (pytest.approx(3.0), 0.0)
    assert b.overlaps_with == ("a",) and a.note == ""


def test_parts_exhaust_a_small_bill_in_turn() -> None:
    # Bill of 0.5 unit: t1 (0.5 of 0.5) takes it all, t2 (0.5 of 0.5) finds nothing left.
    a, b = count_claims([req("a", 0.5, "t1", 0.5), req("b", 0.4, "t2", 0.5)], {"R": 0.5})
    assert (a.counted, b.counted) == (pytest.approx(0.5), 0.0)
    assert b.note == "counted after a: 0 of the 0.4 credits asked were still billed on R"


def test_a_part_larger_than_the_bill_asked_at_the_bill_is_not_a_cap() -> None:
    # 10 of a part of 20 on a bill of 10: half the part = half of the 10 billed = 5; 10 is not above the
    # 10 billed, so the note says what was left, not a cap.
    (a,) = count_claims([req("a", 10, "t1", 20)], {"R": 10})
    assert a.counted == pytest.approx(5.0) and a.note == "5 of the 10 credits asked were left of t1 of R"


def test_a_part_of_negative_size_counts_nothing() -> None:
    (a,) = count_claims([req("a", 3, "t1", -5)], {"R": 10})  # corrupt evidence: nothing to count
    assert a.counted == 0.0


def test_a_shortfall_within_the_tolerance_says_nothing() -> None:
    # Bills of 1 - 1e-9 and 10 - 2e-9 units: the claims of 1 and 10 are counted whole within 1e-9 per unit.
    (a,) = count_claims([req("a", 1)], {"R": 1 - 1e-9})
    (b,) = count_claims([req("b", 10)], {"R": 10 - 2e-9})
    assert (a.note, b.note) == ("", "")
    assert a.counted == pytest.approx(1.0) and b.counted == pytest.approx(10.0)
    # 1.5e-9 short of a claim of 1 is beyond it: the note says so.
    (c,) = count_claims([req("c", 1)], {"R": 1 - 1.5e-9})
    assert c.note == "capped at the 1 credits R billed (the rule estimated 1)"


def test_claims_name_what_was_counted_before_them_in_counting_order() -> None:
    # Bill of 20. The part a (2 of t1's 10) first: 2, leaving 18. Then by saving, whole and proportional
    # claims alike: w1 8/20 x 18 = 7.2 (10.8 left); p 4 x 10.8/20 = 2.16 (8.64 left); w2 3/20 x 8.64 = 1.296
    # (7.344 left); w3 1/20 x 7.344 = 0.3672.
    a, w1, p, w2, w3 = count_claims([req("a", 2, "t1", 10), req("w1", 8), req("p", 4, "q", proportional=True),
                                     req("w2", 3), req("w3", 1)], {"R": 20})
    assert counted([a, w1, p, w2, w3]) == [pytest.approx(v) for v in (2.0, 7.2, 2.16, 1.296, 0.3672)]
    assert w3.overlaps_with == ("a", "w1", "p", "w2")
    assert (w1.overlaps_with, p.overlaps_with, w2.overlaps_with) == (("a",), ("a", "w1"), ("a", "w1", "p"))


def test_a_claim_counted_whole_overlaps_nobody() -> None:
    # Two claims on t1 that disagree on its size: a (2 of 10, $2) leaves 8 of t1; b (2.5 of 5 at $0.5 = $1.25)
    # then takes half of the 8 left, capped at its 2.5: all it asked, so it is not "counted after" a.
    a, b = count_claims([req("a", 2, "t1", 10), req("b", 2.5, "t1", 5, usd=0.5)], {"R": 20})
    assert (a.counted, b.counted) == (pytest.approx(2.0), pytest.approx(2.5))
    assert (b.overlaps_with, b.note) == ((), "")


# --- proportional parts -----------------------------------------------------------------------------


def test_proportional_parts_take_their_share_of_what_is_left() -> None:
    # Bill of 10. The part a (4 of t1) goes first: 4, leaving 6. The proportional p (5, $5) comes before the
    # whole w (2, $2): 5 x 6/10 = 3, leaving 3. w: 2/10 of 3 = 0.6.
    w, p, a = count_claims([req("w", 2), req("p", 5, "q", proportional=True), req("a", 4, "t1", 10)],
                           {"R": 10})
    assert counted([a, p, w]) == [pytest.approx(4.0), pytest.approx(3.0), pytest.approx(0.6)]
    assert p.overlaps_with == ("a",) and w.overlaps_with == ("a", "p")
    assert p.note == "counted after a: 3 of the 5 credits asked were still billed on q of R"
    assert w.note == "counted after a; p: 0.6 of the 2 credits asked were still billed on R"
    assert p.part == "q"


def test_proportional_parts_are_sized_and_capped() -> None:
    # Alone, a proportional part counts all it asks up to its size: 5 asked of a part of 2 = 2, a cap.
    (p,) = count_claims([req("p", 5, "q", 2, proportional=True)], {"R": 10})
    assert p.counted == pytest.approx(2.0)
    assert p.note == "capped at the 2 credits q of R billed (the rule estimated 5)"
    # A part of 20 asked whole on a bill of 10: never more than the 10 left.
    (p,) = count_claims([req("p", 20, "q", 20, proportional=True)], {"R": 10})
    assert p.counted == pytest.approx(10.0)
    assert p.note == "10 of the 20 credits asked were left of q of R"
    (p,) = count_claims([req("p", 5, "q", proportional=True)], {"R": 0})
    assert p.counted == 0.0
    # A bill below one unit is shared all the same: 0.25 of 0.5 billed, nothing counted before.
    (p,) = count_claims([req("p", 0.25, "q", proportional=True)], {"R": 0.5})
    assert p.counted == pytest.approx(0.25) and p.note == ""


# --- what a saving is worth ------------------------------------------------------------------------------


def claim(counted: float, usd: float = 1.0, cost: float = 0.0, asked: float = 10.0,
          overlaps: tuple[str, ...] = ("x",)) -> Claim:
    return Claim(resource="R", unit="credits", asked=asked, counted=counted, usd_per_unit=usd,
                 change_cost_usd=cost, overlaps_with=overlaps, note="counted after x: 0.5 of the 10 credits")


def test_saving_usd_is_rounded_down_and_never_negative() -> None:
    assert saving_usd(claim(1.239)) == 1.23  # rounded down: $1.24 could lift a pool above its bill
    assert saving_usd(claim(0.29)) == 0.29  # 0.29 x 100 is 28.999999999999996: still 29 cents
    assert saving_usd(claim(3.0, usd=2.0, cost=1.5)) == 4.5  # 3 x $2 less the change's $1.5
    assert saving_usd(claim(1.0, cost=2.0)) == 0.0
    assert saving_usd(claim(1.2345678), 4) == 1.2345
    assert saving_usd(claim(1.2345678), 6) == 1.234567


def finding_with(c: Claim | None, severity: str = "high", saving: float = 0.0) -> Finding:
    return Finding(rule_id="r", severity=severity, subject={}, title="t", evidence={}, recommendation="r",
                   estimated_savings_usd=saving, claim=c)


def test_a_claim_left_nothing_by_earlier_ones_becomes_an_early_warning() -> None:
    # Alone: 1236.5 units at $1 less the change's $2 = $1,234.50.
    f = superseded(finding_with(claim(0.0, cost=2.0, asked=1236.5)))
    assert f.severity == "info"
    assert f.scale_note == ("Superseded: counted after x: 0.5 of the 10 credits; alone, it would save "
                            "$1,234.50.")


@pytest.mark.parametrize("case", [
    finding_with(claim(0.0), severity="info"),        # already an early warning
    finding_with(None),                               # no claim
    finding_with(claim(0.0), saving=0.01),            # still saves something
    finding_with(claim(0.0, overlaps=())),            # nothing was counted before it
    finding_with(claim(0.0, cost=10.0, asked=10.0)),  # alone it saves nothing either: 10 x $1 - $10
])
def test_findings_that_stay_as_they_are(case: Finding) -> None:
    assert superseded(case) is case
