"""Whole-column Arrow conversions: text, numbers, booleans, epoch ms and JSON text.

Why a module of its own: export files spell the same value many ways (timestamps as
ISO text, Snowsight or BigQuery-console text, or epoch s/ms/µs/ns numbers; numbers and
booleans as text in CSV; nested fields as JSON text). These pure column-to-column
functions turn each notation into one Arrow type with vectorized compute calls, so
``warehouse_columns.Columns`` only looks columns up and chooses the conversion. They
know no table, source or error type. pyarrow is imported lazily, as in the readers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TRUE = ["true", "t", "1", "yes", "y"]
_FALSE = ["false", "f", "0", "no", "n"]


def _is_text(col: pa.ChunkedArray) -> bool:
    import pyarrow as pa

    return pa.types.is_string(col.type) or pa.types.is_large_string(col.type)


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return col if _is_text(col) else col.cast(pa.string())


def _text_or_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _text(col)
    return pc.if_else(_is_empty(text), pa.scalar(None, text.type), text)


def _clean_numeric_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(_text(col))
    return pc.if_else(_is_empty(text), pa.scalar(None, pa.string()), text)


def _is_empty(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """'' per value, from the lengths alone (faster than comparing strings)."""
    import pyarrow.compute as pc

    return pc.equal(pc.binary_length(text), 0)


def _as_float(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    if _is_text(col):
        col = _clean_numeric_text(col)
    return col.cast(pa.float64())


def _ints(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(col.type) or pa.types.is_boolean(col.type):
        return col.cast(pa.int64())
    if _is_text(col):
        text = _clean_numeric_text(col)
        try:
            return text.cast(pa.int64())
        except pa.ArrowInvalid:
            col = text
    values = _as_float(col)
    values = pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)
    return pc.round(values).cast(pa.int64())


def _floats(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = _as_float(col)
    return pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)


def _bools(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_boolean(col.type):
        return col
    if not _is_text(col):
        return pc.not_equal(col.cast(pa.float64()), 0)
    text = pc.utf8_lower(_clean_numeric_text(col))
    truth = pc.if_else(pc.is_in(text, pa.array(_TRUE)), True, None)
    return pc.if_else(pc.is_in(text, pa.array(_FALSE)), False, truth)


def _times_ms(col: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(col.type):
        return _timestamp_ms(col)
    if pa.types.is_date(col.type):
        return _timestamp_ms(col.cast(pa.timestamp("ms")))
    if not _is_text(col):
        return _epoch_ms(col.cast(pa.float64()))
    try:  # the usual case: clean zoned text (Snowsight, BigQuery console), parsed as it is
        return _zoned_text_ms(col)
    except pa.ArrowInvalid:
        pass
    text = _clean_numeric_text(col)
    for fast in (_epoch_text_ms, _zoned_text_ms, _naive_text_ms):  # one format for the whole column
        try:
            return fast(text)
        except pa.ArrowInvalid:
            pass
    numeric = pc.match_substring_regex(text, _NUMBER)  # mixed formats: per value
    null = pa.scalar(None, pa.string())
    epoch = _epoch_ms(pc.if_else(numeric, text, null).cast(pa.float64()))
    iso = _timestamp_ms(_iso_utc(pc.if_else(numeric, null, text)).cast(pa.timestamp("ns", "UTC")))
    return pc.coalesce(epoch, iso)


def _epoch_text_ms(text: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return _epoch_ms(text.cast(pa.float64()))


def _zoned_text_ms(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """'... UTC' (BigQuery console), '... -0700' (Snowsight), ISO with Z or offset."""
    import pyarrow as pa

    sample = " ".join(v for v in text.slice(0, 256).to_pylist() if v)
    likely = tuple((old, new) for old, new in _ZONE_SPELLINGS if old in sample)  # one pass per spelling seen
    try:
        return _timestamp_ms(_respelled(text, likely).cast(pa.timestamp("ns", "UTC")))
    except pa.ArrowInvalid:
        if likely == _ZONE_SPELLINGS:
            raise
    return _timestamp_ms(_respelled(text, _ZONE_SPELLINGS).cast(pa.timestamp("ns", "UTC")))


def _respelled(text: pa.ChunkedArray, spellings: tuple[tuple[str, str], ...]) -> pa.ChunkedArray:
    import pyarrow.compute as pc

    for old, new in spellings:
        text = pc.replace_substring(text, old, new)
    return text


_ZONE_SPELLINGS = ((" UTC", "Z"), (" +", "+"), (" -", "-"))


def _naive_text_ms(text: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa

    return _timestamp_ms(text.cast(pa.timestamp("ns")))


def _timestamp_ms(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Epoch ms of a timestamp column (integer maths: ns values exceed float precision)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = col.cast(pa.int64())  # the UTC instant in the column's unit, tz-aware or naive
    unit = col.type.unit
    if unit == "s":
        return pc.multiply(raw, 1000)
    return raw if unit == "ms" else pc.divide(raw, 1_000 if unit == "us" else 1_000_000)


def _epoch_ms(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Epoch numbers to ms, the unit told by magnitude: s (bq CLI), ms, µs or ns.

    Rounded to whole µs first, so '1714986000.123' (a float that is really
    ...122.99999) gives ...123 ms, like the same instant written as text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    size = pc.abs(values)
    by_ns = pc.if_else(pc.less(size, 1e17), values, pc.divide(values, 1e3))
    by_ms = pc.if_else(pc.less(size, 1e14), pc.multiply(values, 1e3), by_ns)
    micros = pc.if_else(pc.less(size, 1e11), pc.multiply(values, 1e6), by_ms)
    return pc.floor(pc.divide(pc.round(micros), 1000.0)).cast(pa.int64())


def _iso_utc(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Rewrite timestamp text to ISO 8601 with a zone Arrow can parse.

    Handles '2024-05-01 10:00:00.123 -0700' (Snowsight), '... UTC' (BigQuery console),
    'Z' and '+07:00'; text without a zone is taken as UTC.
    """
    import pyarrow.compute as pc

    text = pc.replace_substring_regex(text, r"\s*(UTC|GMT|Z)$", "Z")
    text = pc.replace_substring_regex(text, r"\s+([+-]\d{2}:?\d{2})$", r"\1")
    zoned = pc.match_substring_regex(text, r"(Z|[+-]\d{2}:?\d{2})$")
    return pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", ""))


def _parse_json_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Parse JSON cells with Arrow's JSON reader, each distinct text once.

    Nested cells repeat (the same referenced tables, labels, query_info), so the
    distinct texts become lines ``{"v": <cell>}`` of one NDJSON buffer, and the
    parsed values are spread back to the rows with ``take``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    encoded = col.combine_chunks().dictionary_encode()
    if len(encoded.dictionary) == 0:  # every cell null
        return pa.chunked_array([pa.nulls(len(encoded))])
    cells = pc.utf8_trim_whitespace(pc.replace_substring(encoded.dictionary, "\n", " "))
    cells = pc.if_else(pc.equal(cells, ""), "null", cells)
    lines = pc.binary_join_element_wise('{"v":', cells, "}\n", "").cast(pa.large_string())
    everything = pa.LargeListArray.from_arrays(pa.array([0, len(lines)], pa.int64()), lines)
    body = pc.binary_join(everything, pa.scalar("", pa.large_string()))[0].as_buffer()
    parsed = pj.read_json(pa.BufferReader(body), read_options=pj.ReadOptions(block_size=16 << 20)).column("v")
    return pa.chunked_array([parsed.combine_chunks().take(encoded.indices)])
