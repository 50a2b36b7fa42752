"""Query text without its literals: for grouping repeated queries and for safe reports.

Query text carries customer data in its literals (ids, e-mail addresses, dates), so
nothing derived from it may reach a report unmasked. One small tokenizer (not a SQL
parser: warehouse dialects differ too much for one) recognises comments, string and
number literals, quoted identifiers and words; masking replaces literals with ``?``,
normalizing also folds case and whitespace so that the same query issued by different
clients groups together, as Snowflake's ``query_parameterized_hash`` and BigQuery's
``query_hashes.normalized_literals`` do.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter

_LITERAL = re.compile(
    r"""
    (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>(?:(?<![\w$])[rRbB]{1,2})?
               (?:'''.*?(?:'''|\Z)|\"\"\".*?(?:\"\"\"|\Z)|'(?:[^'\\]|\\.|'')*(?:'|\Z))
               |\$\$.*?(?:\$\$|\Z))
  | (?P<dquoted>"(?:[^"]|"")*(?:"|\Z))
  | (?P<backtick>`[^`]*(?:`|\Z))
  | (?P<number>(?<![\w$.])(?:0[xX][0-9a-fA-F]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d*)?)(?![\w$]))
    """,
    re.VERBOSE | re.DOTALL,
)
_NORM_TOKEN = re.compile(r'`[^`]*`?|"(?:[^"]|"")*"?|[\w$.?]+|\S')
_IN_LIST = re.compile(r"\b(in)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_STAR = re.compile(r"(?:\bselect(?:\s+distinct|\s+all)?|,)\s*(?:[\w$`\".]+\.)?\*(?!\s*(?:except|exclude)\b)",
                   re.IGNORECASE)
_EXISTS_BEFORE = re.compile(r"\bexists\s*\(\s*$", re.IGNORECASE)
_FROM_AFTER = re.compile(r"\bfrom\s+(\(|[\w$`\".\-]+)", re.IGNORECASE)
_CTE = re.compile(r"(?:\bwith|,)\s*(?:recursive\s+)?([\w$`\"]+)\s+as\s*\(", re.IGNORECASE)
_TABLE_REF = re.compile(r"\b(?:from|join)\s+([\w$`\".\-]+)", re.IGNORECASE)
_WHERE = re.compile(
    r"\b(?:where|qualify|having)\b(.*?)(?=\bgroup\s+by\b|\border\s+by\b|\blimit\b|\bunion\b|$)",
    re.IGNORECASE | re.DOTALL)
_PREDICATE = re.compile(
    r"([A-Za-z_][\w$.]*)\s*\)?\s*(?:=|<>|!=|<=|>=|<|>|\bbetween\b|\bin\b|\blike\b|\bis\b)", re.IGNORECASE)
_KEYWORDS = frozenset((
    "and", "or", "not", "null", "is", "in", "like", "between", "where", "select", "from", "join", "on", "as",
    "case", "when", "then", "else", "end", "true", "false", "exists", "any", "all", "date", "timestamp",
    "interval"))
NONDETERMINISTIC = re.compile(
    r"\b(current_timestamp|current_time|current_date|current_datetime|now|sysdate|getdate|random|rand|"
    r"uuid_string|generate_uuid|localtimestamp|session_user)\b", re.IGNORECASE)


def _masker(double_quoted_strings: bool):  # noqa: ANN202 - a re.sub callback
    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "comment":
            return " "
        if kind in ("string", "number") or (kind == "dquoted" and double_quoted_strings):
            return "?"
        return match.group()
    return replace


@functools.lru_cache(maxsize=4096)
def mask_literals(sql: str, *, double_quoted_strings: bool = False) -> str:
    """``sql`` with string and number literals replaced by ``?`` and comments removed.

    ``customer_id = 42`` becomes ``customer_id = ?``; ``IN ('a', 'b')`` becomes ``IN (?)``.
    Identifiers (digits inside them too), quoted identifiers and keywords are left alone.
    Double-quoted text is an identifier in Snowflake and a string in BigQuery: pass
    ``double_quoted_strings=True`` for BigQuery text. Results are cached: dashboards send
    the same text thousands of times.
    """
    masked = _LITERAL.sub(_masker(double_quoted_strings), sql)
    masked = re.sub(r"[ \t]+", " ", masked).strip()
    return _IN_LIST.sub(lambda m: f"{m.group(1)} (?)", masked)


@functools.lru_cache(maxsize=4096)
def normalize_sql(sql: str, *, double_quoted_strings: bool = False) -> str:
    """Masked, case-folded text with one space between tokens: the grouping key of a query."""
    masked = mask_literals(sql, double_quoted_strings=double_quoted_strings)
    if '"' in masked or "`" in masked:  # quoted identifiers keep their case
        tokens = [t if t[0] in '"`' else t.lower() for t in _NORM_TOKEN.findall(masked)]
    else:
        tokens = _NORM_TOKEN.findall(masked.lower())
    return " ".join(tokens).rstrip("; ").strip()


def star_tables(sql: str) -> list[str]:
    """Base tables read with ``SELECT *`` / ``SELECT t.*`` (not ``COUNT(*)``, ``EXISTS (SELECT *``,
    ``SELECT * EXCEPT``, or a star over a subquery or CTE)."""
    masked = mask_literals(sql)
    ctes = {_bare(name) for name in _CTE.findall(masked)}
    found: list[str] = []
    for match in _STAR.finditer(masked):
        if _EXISTS_BEFORE.search(masked[: match.start()] + (" " if match.group().startswith(",") else "")):
            continue
        source = _FROM_AFTER.search(masked, match.end())
        if source is None or source.group(1) == "(":
            continue
        table = _bare(source.group(1))
        if table not in ctes and table not in found:
            found.append(table)
    return found


def tables_in(sql: str) -> list[str]:
    """Names after FROM/JOIN that are neither subqueries nor CTEs, in order of appearance."""
    masked = mask_literals(sql)
    ctes = {_bare(name) for name in _CTE.findall(masked)}
    names: list[str] = []
    for raw in _TABLE_REF.findall(masked):
        name = _bare(raw)
        if name and name not in ctes and name not in names and name.lower() not in _KEYWORDS:
            names.append(name)
    return names


def filter_columns(sql: str) -> list[str]:
    """Columns compared in WHERE/QUALIFY/HAVING clauses, most used first (alias prefixes dropped)."""
    masked = mask_literals(sql)
    counts: Counter[str] = Counter()
    for clause in _WHERE.findall(masked):
        for ident in _PREDICATE.findall(clause):
            column = ident.rsplit(".", 1)[-1].lower()
            if column not in _KEYWORDS:
                counts[column] += 1
    return [name for name, _ in counts.most_common()]


def is_nondeterministic(sql: str) -> bool:
    """True when the text calls a function that stops the result cache from answering it."""
    return NONDETERMINISTIC.search(mask_literals(sql)) is not None


def _bare(name: str) -> str:
    """A table name without quotes or backticks."""
    return name.replace("`", "").replace('"', "").strip()


def same_table(a: str, b: str) -> bool:
    """True when two table names match, ignoring case, quotes and missing project/database prefixes."""
    x, y = _bare(a).lower().replace(":", "."), _bare(b).lower().replace(":", ".")
    return x == y or x.endswith("." + y) or y.endswith("." + x)


SQL_SNIPPET_CHARS = 300


def sql_snippet(sql: str, *, double_quoted_strings: bool = False) -> str:
    """The query text with its literals masked, on one line, shortened for evidence and tables."""
    masked = " ".join(mask_literals(sql, double_quoted_strings=double_quoted_strings).split())
    return masked if len(masked) <= SQL_SNIPPET_CHARS else masked[: SQL_SNIPPET_CHARS - 1] + "…"


def text_fingerprint(sql: str, *, double_quoted_strings: bool = False) -> str:
    """A short hash of the normalized text: equal for runs that differ only in literals and spacing."""
    normalized = normalize_sql(sql, double_quoted_strings=double_quoted_strings)
    return hashlib.sha1(normalized.encode()).hexdigest()[:16]
