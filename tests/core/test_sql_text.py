"""Literal masking and normalization of query text."""

from __future__ import annotations

import pytest

from analyzer.core.sql_text import (
    filter_columns,
    is_nondeterministic,
    mask_literals,
    normalize_sql,
    same_table,
    star_tables,
    tables_in,
)


@pytest.mark.parametrize(("sql", "masked"), [
    ("select * from t where customer_id = 42", "select * from t where customer_id = ?"),
    ("select a from t where name = 'x'", "select a from t where name = ?"),
    ("select a from t where name = 'O''Brien' and d = DATE '2024-01-01'",
     "select a from t where name = ? and d = DATE ?"),
    ("select a from t where id in (1, 2, 3) and c IN ('a','b')",
     "select a from t where id in (?) and c IN (?)"),
    ("select col_2, t1.x, $1 from t9", "select col_2, t1.x, $1 from t9"),
    ("select 1.5e3, .5, 0xFF, -7", "select ?, ?, ?, -?"),
    ("select a -- customer 42\nfrom t /* id = 7 */ where b = 1", "select a \nfrom t where b = ?"),
    ("select \"Col 1\" from `p.d.t2` where v = $$secret$$", "select \"Col 1\" from `p.d.t2` where v = ?"),
    ("select x from t where s = r'\\d+' and e = 'a\\'b'", "select x from t where s = ? and e = ?"),
    ("select a from t where d >= DATE'2024-01-01' and n = number'x'",
     "select a from t where d >= DATE? and n = number?"),
])
def test_mask_literals(sql: str, masked: str) -> None:
    assert mask_literals(sql) == masked


def test_double_quotes_are_strings_only_when_asked() -> None:
    assert mask_literals('select a from t where b = "x"') == 'select a from t where b = "x"'
    bigquery = mask_literals('select a from t where b = "x"', double_quoted_strings=True)
    assert bigquery == "select a from t where b = ?"


def test_normalize_folds_case_whitespace_literals_and_comments() -> None:
    a = "SELECT region, SUM(amount)\n  FROM sales WHERE day >= '2026-10-01' -- tile 3\n GROUP BY region;"
    b = "select region,sum(amount) from sales where day>='2026-11-01' group  by region"
    assert normalize_sql(a) == normalize_sql(b)
    short, longer = "select a from t where id IN (3)", "select a from t where id in (1,2)"
    assert normalize_sql(short) == normalize_sql(longer)
    assert normalize_sql("select a from t") != normalize_sql("select b from t")


def test_star_tables_finds_select_star_but_not_count_star() -> None:
    assert star_tables("SELECT * FROM `p.d.customers` LIMIT 100") == ["p.d.customers"]
    assert star_tables("select t.*, u.x from big t join u on t.id = u.id") == ["big"]
    assert star_tables("select a, * from events") == ["events"]
    assert star_tables("select count(*) from t") == []
    assert star_tables("select a from t where exists (select * from u where u.id = t.id)") == []
    assert star_tables("with x as (select a from t) select * from x") == []
    assert star_tables("select * from (select a, b from t)") == []
    assert star_tables("select * except (blob) from t") == []
    assert star_tables("select * exclude (blob) from t") == []
    assert star_tables("select 'select * from secret' as s from t") == []


def test_tables_and_filter_columns() -> None:
    sql = ("with r as (select * from raw.a) select o.id from sales.orders o "
           "join sales.items i on o.id = i.oid "
           "where o.customer_id = 42 and DATE(o.ts) >= '2024-01-01' and o.customer_id in (1, 2) group by 1")
    assert tables_in(sql) == ["raw.a", "sales.orders", "sales.items"]
    assert filter_columns(sql) == ["customer_id", "ts"]
    assert filter_columns("select * from t") == []


def test_nondeterministic_functions_and_table_matching() -> None:
    assert is_nondeterministic("select * from t where ts > current_timestamp() - interval '1' day")
    assert not is_nondeterministic("select 'current_date' from t")
    assert same_table("`acme.crm.customers`", "crm.customers")
    assert same_table("SALES.PUBLIC.ORDERS", "sales.public.orders")
    assert not same_table("crm.customers", "crm.customers_old")
