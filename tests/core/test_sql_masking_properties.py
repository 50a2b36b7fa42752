"""Literal masking must leave no customer data in any query text, whatever its shape.

Why: query history is cut off (Snowflake and BigQuery store a prefix of long text), carries
MySQL-style ``#`` comments, escaped quotes and dollar-quoted bodies. Every literal that
survives masking reaches a report. The examples pin the branches a mutation once removed
unnoticed (unterminated strings, ``#`` comments); the property tests build SQL from
tokens whose literals carry a sentinel and assert the sentinel never survives, and that
masking a masked text changes nothing.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from analyzer.core.sql_text import mask_literals, normalize_sql, sql_snippet, text_fingerprint

# Under mutation testing (tests/mutation/run.py) each mutant reruns these tests: fewer examples
# keep one mutant to seconds; the full count runs in the suite.
FEWER = 4 if os.environ.get("DEANALYZE_MUTATION") else 1
if FEWER > 1:  # a failing example is enough to kill a mutant: no time spent shrinking it
    settings.register_profile("deanalyze-mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate))
    settings.load_profile("deanalyze-mutation")
EMAIL = "bob@example.com"


@pytest.mark.parametrize("sql", [
    f"select * from users where email = '{EMAIL}",  # cut off inside the string
    f"select * from users where email = '{EMAIL}\nand x = 1",  # a newline inside the open string
    f"select * from users where name = 'O''Brien' and email = '{EMAIL}",  # cut after an escaped quote
    f"select * from users where email = '{EMAIL}\\'",  # ends in an escaped quote: still unterminated
    f"select * from users where email = '''{EMAIL}",  # an open triple-quoted string
    f'select * from users where email = """{EMAIL}',
    f"select * from users where email = $${EMAIL}",  # an open dollar-quoted body
    f"select * from users where email = r'{EMAIL}",  # BigQuery raw string, cut off
    f"select 1 # note: {EMAIL}",  # MySQL/BigQuery hash comment
    f"select 1 -- note: {EMAIL}",
    f"select 1 /* note: {EMAIL}",  # an open block comment
    f"select 1 /* note: {EMAIL} */ from t",
    f"select 1 from t # {EMAIL}\nwhere a = 2",
])
def test_no_email_survives_masking(sql: str) -> None:
    for masked in (mask_literals(sql), mask_literals(sql, double_quoted_strings=True), sql_snippet(sql),
                   normalize_sql(sql)):
        assert "bob" not in masked and "example" not in masked, masked


def test_exact_masks_of_the_cut_and_commented_forms() -> None:
    assert mask_literals(f"select * from users where email = '{EMAIL}") == \
        "select * from users where email = ?"
    assert mask_literals(f"select a # note: {EMAIL}\nfrom t") == "select a \nfrom t"
    assert mask_literals(f"select a -- {EMAIL}\nfrom t where id = 42") == "select a \nfrom t where id = ?"
    assert mask_literals("select 'a', 0x1F, 1.5e3, .5, 7 from t where c in (1, 2,3)") == \
        "select ?, ?, ?, ?, ? from t where c in (?)"
    assert mask_literals('select "Col" from "T" where s = "x"') == 'select "Col" from "T" where s = "x"'
    assert mask_literals('select "Col" from t where s = "x"', double_quoted_strings=True) == \
        "select ? from t where s = ?"
    assert mask_literals("select `a1`, t2.c3 from `p.d.t4`") == "select `a1`, t2.c3 from `p.d.t4`"


def test_numbers_cut_inside_their_exponent_or_hex_prefix_are_masked() -> None:
    assert mask_literals("select * from t where amount = 12345.67e") == "select * from t where amount = ?"
    assert mask_literals("select * from t where amount = 1.5E+") == "select * from t where amount = ?"
    assert mask_literals("select * from t where flags = 0x") == "select * from t where flags = ?"


def test_identifiers_with_digits_and_dollars_keep_their_digits() -> None:
    assert mask_literals("select col1, $2, t.x9 from s3_table") == "select col1, $2, t.x9 from s3_table"


def test_fingerprints_ignore_literals_but_not_structure() -> None:
    a = text_fingerprint("select * from t where id = 1 -- first")
    assert a == text_fingerprint("SELECT *\n FROM t WHERE id = 99 # other")
    assert a != text_fingerprint("select * from u where id = 1")


# --- properties over generated SQL ------------------------------------------------------------

SENTINEL = "SECRET"  # never in a generated identifier (lowercase) or keyword
_IDENT = st.from_regex(r"[a-z_][a-z_]{0,7}", fullmatch=True)
_KEYWORD = st.sampled_from(["select", "from", "where", "and", "or", "in", "(", ")", ",", "=", "<", "*",
                            "join", "on", "group by", "limit", "as", ";", "."])
_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


def _single_quoted(body: str, escape: str) -> str:
    return "'" + SENTINEL + body.replace("\\", "\\\\").replace("'", escape) + "'"


_STRING = st.one_of(
    st.builds(_single_quoted, _TEXT, st.sampled_from(["''", "\\'"])),
    _TEXT.filter(lambda t: "$$" not in t and not t.endswith("$")).map(lambda t: f"$${SENTINEL}{t}$$"),
    _TEXT.filter(lambda t: "'''" not in t and not t.endswith("'") and not t.endswith("\\")).map(
        lambda t: f"'''{SENTINEL}{t}'''"),
    _TEXT.map(lambda t: "r'" + SENTINEL + t.replace("'", "").replace("\\", "") + "'"),
)
_NUMBER = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.floats(min_value=0, max_value=1e9, allow_nan=False).map(repr),
    st.integers(min_value=0, max_value=2**32).map(hex),
    st.from_regex(r"\.[0-9]{1,4}([eE][+-]?[0-9]{1,2})?", fullmatch=True),
)
_COMMENT = st.one_of(
    _TEXT.map(lambda t: "-- " + SENTINEL + t.replace("\n", " ").replace("\r", " ") + "\n"),
    _TEXT.map(lambda t: "# " + SENTINEL + t.replace("\n", " ").replace("\r", " ") + "\n"),
    _TEXT.filter(lambda t: "*/" not in t and not t.endswith("*")).map(lambda t: f"/* {SENTINEL}{t} */"),
)
_TOKEN = st.one_of(_IDENT, _KEYWORD, _STRING, _NUMBER, _COMMENT)


@st.composite
def sql_texts(draw: st.DrawFn, *, cut: bool) -> str:
    """Tokens joined by whitespace; ``cut`` also cuts the text anywhere, as query history does."""
    text = " ".join(draw(st.lists(_TOKEN, min_size=1, max_size=14)))
    if cut:
        text = text[: draw(st.integers(min_value=0, max_value=len(text)))]
    return text


def _leaks(masked: str) -> list[str]:
    """What of a literal is still there: the sentinel (or its cut prefix at the end) or a digit."""
    found = [c for c in masked if c.isdigit()]
    if SENTINEL in masked:
        found.append(SENTINEL)
    return found


@settings(max_examples=300 // FEWER, deadline=None, derandomize=True, database=None)
@given(sql_texts(cut=False))
@example("select a from t where e = '" + SENTINEL + "x''y\\'z' and n = 0x1f # " + SENTINEL)
def test_masking_leaves_no_literal_of_generated_sql(sql: str) -> None:
    masked = mask_literals(sql)
    assert not _leaks(masked), (sql, masked)
    assert not _leaks(normalize_sql(sql))


@settings(max_examples=300 // FEWER, deadline=None, derandomize=True, database=None)
@given(sql_texts(cut=True))
def test_masking_a_cut_text_leaves_no_whole_literal(sql: str) -> None:
    masked = mask_literals(sql)
    assert SENTINEL not in masked and not any(c.isdigit() for c in masked), (sql, masked)


@settings(max_examples=300 // FEWER, deadline=None, derandomize=True, database=None)
@given(sql_texts(cut=True), st.booleans())
def test_masking_is_idempotent(sql: str, bigquery: bool) -> None:
    once = mask_literals(sql, double_quoted_strings=bigquery)
    assert mask_literals(once, double_quoted_strings=bigquery) == once
    normalized = normalize_sql(sql, double_quoted_strings=bigquery)
    assert normalize_sql(normalized, double_quoted_strings=bigquery) == normalized


@settings(max_examples=200 // FEWER, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(_IDENT, _KEYWORD), min_size=1, max_size=12), st.booleans())
def test_text_without_literals_keeps_every_word(tokens: list[str], bigquery: bool) -> None:
    sql = " ".join(tokens)
    assert mask_literals(sql, double_quoted_strings=bigquery) == " ".join(sql.split())


@settings(max_examples=200 // FEWER, deadline=None, derandomize=True, database=None)
@given(_TEXT)
def test_double_quoted_text_is_masked_for_bigquery_only(body: str) -> None:
    quoted = '"' + SENTINEL + body.replace('"', '""') + '"'
    assert SENTINEL not in mask_literals(f"select {quoted} from t", double_quoted_strings=True)
    assert quoted in mask_literals(f"select {quoted} from t") or "\t" in body or "  " in body


# --- the SQL helpers rules build on (each test kills mutants that once survived) --------------------


def test_star_tables_keeps_looking_after_skipped_stars() -> None:
    from analyzer.core.sql_text import star_tables

    text = "select * from a where exists (select * from b) union all select * from c"
    assert star_tables(text) == ["a", "c"]
    assert star_tables("select * from (select 1) x union all select t.* from c t") == ["c"]
    assert star_tables("select a, * from d") == ["d"]


def test_tables_in_skips_ctes_keywords_and_repeats() -> None:
    from analyzer.core.sql_text import tables_in

    assert tables_in("with c as (select 1) select * from c join t on c.x = t.x join t on 1 = 1") == ["t"]
    assert tables_in("select extract(year from date) from events") == ["events"]
    assert tables_in('select * from "Db"."T" join `p.d.t2`') == ["Db.T", "p.d.t2"]


def test_filter_columns_are_ranked_by_use_and_lose_their_prefix() -> None:
    from analyzer.core.sql_text import filter_columns

    assert filter_columns("select * from t where b = 1 and x.a = 2 and s.y.a < 3 group by b") == ["a", "b"]
    assert filter_columns("select * from t where c = 'x'") == ["c"]


@pytest.mark.parametrize(("a", "b", "same"), [
    ('"DB"."T"', "db.t", True), ("proj:ds.t", "proj.ds.t", True), ("proj.ds.t", "proj:ds.t", True),
    ("t", "db.t", True), ("db.t", "t", True), ("`p.d.t`", "D.T", True), ("db.t", "db.u", False),
    ("at", "t", False),
])
def test_same_table(a: str, b: str, same: bool) -> None:
    from analyzer.core.sql_text import same_table

    assert same_table(a, b) is same


def test_snippets_are_one_line_and_cut_at_300_characters() -> None:
    assert sql_snippet("select\n  a,\tb from t") == "select a, b from t"
    exact = "select " + "a" * 293
    assert sql_snippet(exact) == exact and len(exact) == 300
    longer = exact + "b"
    assert sql_snippet(longer) == longer[:299] + "…"
    assert sql_snippet('select "Col" from t') == 'select "Col" from t'  # Snowflake: an identifier
    assert sql_snippet('select "x" from t', double_quoted_strings=True) == "select ? from t"


def test_fingerprints_are_16_hex_digits_and_follow_the_dialect() -> None:
    a = text_fingerprint('select "a" from t', double_quoted_strings=True)
    assert len(a) == 16 and int(a, 16) >= 0
    assert a == text_fingerprint("select 'b' from t", double_quoted_strings=True)
    assert text_fingerprint('select "a" from t') != text_fingerprint("select 'b' from t")
