"""Warehouse bills, idle credits, cloud services and ledger savings of hand-built histories.

Every expected figure is computed by hand (the arithmetic in a comment), never with the code's
helpers: idle = metered compute − credits attributed to queries (Snowflake's BCR-1714
definition, estimated from busy time × size rate when an hour does not report it); cloud
services billed above 10 % of the day's compute; savings counted once per unit in the ledger.
A hypothesis test checks the invariants on generated histories: attributed + idle credits =
metered, nothing negative, savings ≤ bill.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.core.catalog import load_catalog, parse_catalog
from analyzer.core.findings import Claim, Finding
from analyzer.core.warehouse_cost import assign_warehouse_savings, price_history
from analyzer.core.warehouse_model import MeteringHour, QueryRecord, WarehouseHistory

T0 = 1_767_571_200_000  # 2026-01-05 00:00 UTC, a day boundary
S, M, H, DAY = 1_000, 60_000, 3_600_000, 86_400_000
TIB = 1024**4
GENERIC = load_catalog("generic")  # $3.00/credit, $6.25/TiB, $0.04/slot-hour (standard)


def sfq(qid: str, warehouse: str, size: str | None, start: int, minutes: float,
        cs: float = 0.0) -> QueryRecord:
    end = start + int(minutes * M)
    return QueryRecord(vendor="snowflake", query_id=qid, start_time_ms=start, end_time_ms=end,
                       status="SUCCESS", warehouse=warehouse, warehouse_size=size, warehouse_type="STANDARD",
                       execution_ms=end - start, compilation_ms=0, queued_overload_ms=0,
                       queued_provisioning_ms=0, credits_cloud_services=cs)


def hour(warehouse: str, start: int, compute: float, cs: float = 0.0,
         attributed: float | None = None) -> MeteringHour:
    return MeteringHour(warehouse=warehouse, start_time_ms=start, end_time_ms=start + H,
                        credits_used=compute + cs, credits_compute=compute, credits_cloud_services=cs,
                        credits_attributed_queries=attributed)


def snowflake(queries: list[QueryRecord], metering: list[MeteringHour] = ()) -> WarehouseHistory:  # type: ignore[assignment]
    return WarehouseHistory(vendor="snowflake", source="hand", window_start_ms=T0, window_end_ms=T0 + 2 * DAY,
                            queries=tuple(queries), metering=tuple(metering))  # type: ignore[arg-type]


def bq(jid: str, project: str | None, billed: int, slot_ms: int = 0, **kw: object) -> QueryRecord:
    fields: dict[str, object] = dict(
        vendor="bigquery", query_id=jid, start_time_ms=T0, end_time_ms=T0 + M, status="DONE",
        query_text=f"select {jid}", statement_type="SELECT", project=project, bytes_scanned=billed,
        bytes_billed=billed, slot_ms=slot_ms, referenced_tables=("d.t",))
    fields.update(kw)
    return QueryRecord(**fields)  # type: ignore[arg-type]


def bigquery(jobs: list[QueryRecord]) -> WarehouseHistory:
    return WarehouseHistory(vendor="bigquery", source="hand", window_start_ms=T0, window_end_ms=T0 + DAY,
                            queries=tuple(jobs))  # type: ignore[arg-type]


def finding(subject: dict[str, object], usage: dict[str, float], bucket: str | None = None,
            rule: str = "r.x", **evidence: object) -> Finding:
    return Finding(rule_id=rule, severity="low", subject=subject, title="t", evidence=evidence,
                   recommendation="r", savings_bucket=bucket, avoidable_usage=usage)


# --- Snowflake bills ------------------------------------------------------------------------------


def test_snowflake_warehouse_totals_by_hand() -> None:
    queries = [sfq("a", "WH", "X-Small", T0, 30), sfq("b", "UNMETERED", "Medium", T0, 15)]
    metering = [hour("WH", T0, 1.0, attributed=0.4), hour("WH", T0 + H, 0.5, attributed=0.0),
                hour("IDLE", T0, 2.0)]
    cost = price_history(snowflake(queries, metering), GENERIC)
    assert list(cost.warehouses) == ["IDLE", "UNMETERED", "WH"]
    wh, idle_wh, unmetered = cost.warehouses["WH"], cost.warehouses["IDLE"], cost.warehouses["UNMETERED"]
    # WH: 1.5 credits metered; 0.4 + 0.0 attributed (an hour that ran idle reports 0): idle 1.1
    assert (wh.name, wh.query_count, wh.compute_credits) == ("WH", 1, 1.5)
    assert wh.query_credits == pytest.approx(1.0)  # hour 0 shared out; hour 1 had no query
    assert wh.idle_credits == pytest.approx(1.1) and wh.idle_usd == pytest.approx(3.3)
    # IDLE: metered, no query, attribution not reported: busy 0 ms, all 2 credits idle
    assert (idle_wh.query_count, idle_wh.query_credits, idle_wh.idle_credits) == (0, 0.0, 2.0)
    # UNMETERED: 15 min × 4 credits/h = 1 credit estimated; idle unknown, no cloud services
    assert unmetered.compute_credits == pytest.approx(1.0) and unmetered.idle_credits is None
    assert unmetered.idle_usd == 0.0 and unmetered.cloud_services_credits == 0.0
    assert cost.notes == ("UNMETERED: no metering rows; credits estimated as execution time × 4 credits/h "
                          "(Medium); idle time unknown",)
    assert cost.projects == {} and cost.currency == "USD" and cost.edition == "standard"
    q = cost.queries["a"]
    assert (q.query_id, q.vendor, q.pool) == ("a", "snowflake", "WH")
    with pytest.raises(KeyError, match="nope"):
        cost.queries["nope"]


def test_idle_of_an_unknown_size_counts_no_busy_time() -> None:
    # Attribution not reported and the size unknown: busy time has no rate, so all 1.0 is idle.
    cost = price_history(snowflake([sfq("a", "WH", "Huge", T0, 30)], [hour("WH", T0, 1.0)]), GENERIC)
    assert cost.warehouses["WH"].idle_credits == 1.0
    assert cost.notes == ()  # metered: nothing estimated


def test_note_names_the_last_size_of_a_resized_unmetered_warehouse() -> None:
    # 30 min at Small (2 credits/h) = 1 credit, then a size this catalog does not know
    queries = [sfq("a", "WH", "Small", T0, 30), sfq("b", "WH", "Huge", T0 + H, 30)]
    cost = price_history(snowflake(queries), GENERIC)
    assert cost.warehouses["WH"].compute_credits == pytest.approx(1.0)
    assert cost.notes == ("WH: no metering rows; credits estimated as execution time × 0 credits/h (Huge); "
                          "idle time unknown",)


def test_cloud_services_without_metering_by_hand() -> None:
    queries = [
        sfq("a1", "WH_A", "Medium", T0, 30, cs=0.5),  # day 1: 2 credits compute
        sfq("s1", "WH_A", None, T0 + M, 1, cs=0.3),  # day 1: cloud services only
        sfq("b1", "WH_B", "X-Small", T0 + DAY, 60, cs=0.3),  # day 2: 1 credit compute
    ]
    cost = price_history(snowflake(queries), GENERIC)
    # Day 1: CS 0.8, compute 2.0, 0.2 free -> 0.6 billed, 75 % of each query's CS.
    # Day 2: CS 0.3, compute 1.0, 0.1 free -> 0.2 billed, 2/3 of each query's CS.
    assert cost.queries["a1"].cloud_services_credits == pytest.approx(0.375)  # 0.5 × 0.75
    assert cost.queries["s1"].cloud_services_credits == pytest.approx(0.225)  # 0.3 × 0.75
    assert cost.queries["b1"].cloud_services_credits == pytest.approx(0.2)  # 0.3 × 2/3
    assert cost.warehouses["WH_A"].cloud_services_credits == pytest.approx(0.375)
    assert cost.warehouses["CLOUD_SERVICES_ONLY"].cloud_services_credits == pytest.approx(0.225)
    assert cost.warehouses["WH_B"].cloud_services_credits == pytest.approx(0.2)
    assert cost.cloud_services_billed_credits == pytest.approx(0.8)  # 0.6 + 0.2
    assert cost.total_credits == pytest.approx(3.8)  # 2 + 1 compute + 0.8
    assert cost.warehouses["WH_A"].usd == pytest.approx((2.0 + 0.375) * 3.0)


def test_metered_cloud_services_follow_the_metering_days() -> None:
    queries = [sfq("a", "WH", "X-Small", T0, 30, cs=0.2),  # day 1: metering reports no cloud services
               sfq("b", "WH", "X-Small", T0 + DAY, 30, cs=0.4)]  # day 2: no metering row at all
    cost = price_history(snowflake(queries, [hour("WH", T0, 1.0, cs=0.0)]), GENERIC)
    assert cost.queries["a"].cloud_services_credits == 0.0  # the bill says 0 for day 1
    assert cost.queries["b"].cloud_services_credits == 0.0  # nothing billed on a day not metered
    assert cost.cloud_services_billed_credits == 0.0
    assert list(cost.warehouses) == ["WH"]


# --- BigQuery bills -------------------------------------------------------------------------------


def test_bigquery_totals_by_hand() -> None:
    jobs = [bq("z1", "zeta", 2 * TIB), bq("a1", "alpha", TIB, slot_ms=2 * H), bq("b1", "b", TIB),
            bq("r1", "alpha", TIB, slot_ms=4 * H, warehouse="admin:US.etl"),
            bq("s1", "scripts-only", TIB, statement_type="SCRIPT")]  # a project with a SCRIPT parent only
    cost = price_history(bigquery(jobs), GENERIC)
    # sorted by name (not by first appearance); no row for scripts-only, which paid nothing
    assert list(cost.warehouses) == ["admin:US.etl", "alpha", "b", "zeta"]
    assert [(t.name, t.kind, t.query_count) for t in cost.warehouses.values()] == [
        ("admin:US.etl", "reservation", 1), ("alpha", "project", 1), ("b", "project", 1),
        ("zeta", "project", 1)]
    assert list(cost.projects) == ["alpha", "b", "zeta"]
    alpha = cost.projects["alpha"]
    # a1 on demand: 1 TiB = $6.25 (2 slot-hours = $0.08 on editions); r1 reserved: 4 slot-hours = $0.16
    assert (alpha.project, alpha.jobs) == ("alpha", 2)
    assert (alpha.on_demand_usd, alpha.editions_usd, alpha.actual_usd) == pytest.approx((12.5, 0.24, 6.41))
    q = cost.queries["r1"]
    assert (q.query_id, q.vendor, q.tib_billed, q.slot_hours, q.usd) == ("r1", "bigquery", 1.0, 4.0, 0.16)
    assert not q.estimated
    assert cost.total_usd == pytest.approx(12.5 + 6.25 + 6.25 + 0.16)
    assert (cost.cloud_services_billed_credits, cost.total_credits) == (0.0, 0.0)


def test_patterns_rank_query_costs_by_hand() -> None:
    jobs = [bq("big", "p", 4 * TIB, query_text="select a from t where id = 1"),
            bq("big2", "p", 2 * TIB, query_text="select a from t where id = 2"),  # the same query
            bq("small", "p", TIB, query_text="select b from u"),
            bq("parent", "p", 0, statement_type="SCRIPT", query_text="begin select c from v; end")]
    cost = price_history(bigquery(jobs), GENERIC)
    # big + big2: 6 TiB = $37.50 of $43.75; small: 1 TiB = $6.25; the SCRIPT parent costs nothing
    assert [(p.runs, p.usd, p.example_query_id, p.pools) for p in cost.patterns] == [
        (2, 37.5, "big", ("p",)), (1, 6.25, "small", ("p",))]
    assert cost.patterns[0].share == pytest.approx(37.5 / 43.75)


# --- catalogs without some prices -----------------------------------------------------------------


def catalog(warehouse: dict[str, object]):  # type: ignore[no-untyped-def]
    return parse_catalog({"name": "c", "as_of": "2026-01-01", "source": "t", "vcpu_hour": 0.04,
                          "gib_hour": 0.005, "warehouse": warehouse}, "test")


def test_prices_missing_from_a_catalog_are_zero() -> None:
    sf_only = catalog({"snowflake": {"usd_per_credit": 2.0}})
    cost = price_history(bigquery([bq("j", "p", TIB, slot_ms=H)]), sf_only)
    assert (cost.usd_per_credit, cost.usd_per_tib, cost.slot_hour_usd) == (2.0, 0.0, 0.0)
    bq_only = catalog({"bigquery": {"usd_per_tib": 5.0, "slot_hour": 0.05}})  # one price, all editions
    cost = price_history(snowflake([sfq("a", "WH", "X-Small", T0, 30)]), bq_only, edition="enterprise")
    assert (cost.usd_per_credit, cost.usd_per_tib, cost.slot_hour_usd) == (0.0, 5.0, 0.05)
    standard_only = catalog({"bigquery": {"usd_per_tib": 5.0, "slot_hour": {"standard": 0.04}}})
    cost = price_history(bigquery([bq("j", "p", TIB)]), standard_only, edition="enterprise_plus")
    assert cost.slot_hour_usd == 0.0 and cost.edition == "enterprise_plus"


def claim(f: Finding) -> Claim:
    assert f.claim is not None
    return f.claim


# --- savings through the ledger --------------------------------------------------------------------


def test_a_table_claim_is_capped_by_what_its_scans_paid() -> None:
    cost = price_history(bigquery([bq("j", "p", 10 * TIB)]), GENERIC)  # project p: 10 TiB, $62.50
    [f] = assign_warehouse_savings([finding({"project": "p", "table": "d.t"}, {"tib_billed": 5.0},
                                            paid_tib_billed=2.0)], cost)
    assert claim(f).counted == 2.0 and f.estimated_savings_usd == 12.5  # 2 TiB paid × $6.25
    assert f.evidence["paid_usd"] == 12.5
    [bad] = assign_warehouse_savings([finding({"project": "p", "table": "d.t"}, {"tib_billed": 5.0},
                                              paid_tib_billed=True)], cost)  # not a number: as asked
    assert claim(bad).counted == 5.0


def test_query_runs_are_counted_in_proportion_after_a_table_fix() -> None:
    cost = price_history(bigquery([bq("j", "p", 10 * TIB)]), GENERIC)
    table = finding({"project": "p", "table": "d.t"}, {"tib_billed": 8.0}, rule="t.scan", paid_tib_billed=8.0)
    runs = finding({"project": "p", "query_hash": "abc123"}, {"tib_billed": 4.0}, rule="q.repeat",
                   paid_tib_billed=4.0)
    whole = finding({"project": "p"}, {"tib_billed": 1.0}, rule="w.hole")
    out_table, out_runs, out_whole = assign_warehouse_savings([table, runs, whole], cost)
    # table first (a part): 8 of 10 TiB; 2 left. The runs' 4 TiB may overlap the table's scans:
    # 4 × 2/10 = 0.8 TiB. Then the whole claim: 1/10 of the 1.2 TiB left = 0.12 TiB.
    assert claim(out_table).counted == pytest.approx(8.0)
    assert claim(out_runs).counted == pytest.approx(0.8)
    assert out_runs.estimated_savings_usd == pytest.approx(5.0)  # 0.8 × $6.25
    assert claim(out_whole).counted == pytest.approx(0.12)
    assert claim(out_whole).overlaps_with == ("t.scan · d.t", "q.repeat · abc123")


def test_slot_hour_claims_are_capped_by_the_reservation_slot_hours() -> None:
    cost = price_history(bigquery([bq("r", "p", TIB, slot_ms=4 * H, warehouse="res")]), GENERIC)
    [f] = assign_warehouse_savings([finding({"reservation": "res"}, {"slot_hours": 10.0})], cost)
    assert claim(f).counted == 4.0 and f.estimated_savings_usd == 0.16  # 4 slot-hours × $0.04


def test_an_idle_claim_on_a_warehouse_not_in_the_bill_uses_the_whole_history() -> None:
    cost = price_history(snowflake([sfq("a", "WH", "X-Small", T0, 30)], [hour("WH", T0, 2.0)]), GENERIC)
    [f] = assign_warehouse_savings([finding({"warehouse": "GONE"}, {"credits": 1.0}, bucket="idle")], cost)
    assert claim(f).part == "idle time" and claim(f).counted == 1.0 and f.estimated_savings_usd == 3.0


def test_paid_usd_only_from_paid_evidence() -> None:
    cost = price_history(bigquery([bq("r", "p", TIB, slot_ms=4 * H, warehouse="res")]), GENERIC)
    plain, slots = assign_warehouse_savings([
        finding({"reservation": "res"}, {"slot_hours": 1.0}, runs=7),
        finding({"reservation": "res"}, {"slot_hours": 1.0}, paid_slot_hours=1.234)], cost)
    assert "paid_usd" not in plain.evidence
    assert slots.evidence["paid_usd"] == 0.05  # 1.234 × $0.04 = 0.04936


# --- invariants on generated histories ------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> WarehouseHistory:
    queries = []
    for i in range(draw(st.integers(1, 6))):
        wh = draw(st.sampled_from(["A", "B"]))
        start = T0 + draw(st.integers(0, 180)) * M
        queries.append(sfq(f"q{i}", wh, "X-Small" if wh == "A" else "Small", start, draw(st.integers(1, 90)),
                           cs=draw(st.floats(0, 0.3))))
    hours = draw(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.integers(0, 3)), unique=True, max_size=6))
    metering = []
    for wh, h in hours:
        compute = draw(st.floats(0, 3))
        metering.append(hour(wh, T0 + h * H, compute, draw(st.floats(0, 0.3)),
                             draw(st.one_of(st.none(), st.floats(0, compute)))))
    return snowflake(queries, metering)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(histories(), st.floats(0.1, 20))
def test_idle_plus_attributed_is_metered_and_savings_stay_in_the_bill(history: WarehouseHistory,
                                                                      asked: float) -> None:
    cost = price_history(history, GENERIC)
    for name, total in cost.warehouses.items():
        rows = [m for m in history.metering if m.warehouse == name]
        assert total.compute_credits >= 0 and total.usd >= 0 and total.cloud_services_credits >= 0
        if not rows:
            assert total.idle_credits is None
            continue
        metered = sum(m.credits_compute for m in rows)
        assert total.compute_credits == pytest.approx(metered)
        if all(m.credits_attributed_queries is not None for m in rows):  # Snowflake's own attribution
            attributed = sum(m.credits_attributed_queries or 0.0 for m in rows)
            assert total.idle_credits == pytest.approx(max(0.0, metered - attributed), abs=1e-9)
        assert total.idle_credits is not None and 0 <= total.idle_credits <= metered + 1e-9
    assert all(q.compute_credits >= 0 and q.cloud_services_credits >= 0 for q in cost.queries.values())
    # Claims on every warehouse of the bill, on one it does not know and on none: together they
    # never exceed the whole bill (the last two are counted on what the first left of it).
    everyone = [finding({"warehouse": n}, {"credits": asked}, rule=f"r.{n}") for n in cost.warehouses]
    everyone += [finding({"warehouse": "Z"}, {"credits": asked}, rule="r.z"), finding({}, {"credits": asked})]
    whole = sum(total.usd for total in cost.warehouses.values())
    assert sum(f.estimated_savings_usd for f in assign_warehouse_savings(everyone, cost)) <= whole + 0.01 * 6
    for name, total in cost.warehouses.items():
        out = assign_warehouse_savings([finding({"warehouse": name}, {"credits": asked}, bucket=b,
                                                rule=f"r.{b}") for b in (None, "idle", "idle")], cost)
        assert all(f.estimated_savings_usd >= 0 and not math.isnan(f.estimated_savings_usd) for f in out)
        assert sum(f.estimated_savings_usd for f in out) <= total.usd + 0.01 * len(out)  # rounded to cents
        idle_usd = sum(f.estimated_savings_usd for f in out if f.savings_bucket == "idle")
        if total.idle_credits is not None:
            assert idle_usd <= total.idle_usd + 0.02
