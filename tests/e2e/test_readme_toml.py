"""Every ```toml block of README.md loads with the code that reads such a file.

A README example that the tool rejects (an option renamed, a section misspelt) is worse than
none: users copy it first. Each block is classified by its sections and given to the loader
that reads it: rule thresholds and suppressions (``--config``) to ``rules.config.parse_config``,
weekly-audit configs to ``analyzer.api.audit_config.load_audit_config``, price catalogs to
``analyzer.core.catalog.load_catalog``. A block of another kind fails here until this test
learns its loader.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from analyzer.api.audit_config import load_audit_config
from analyzer.core.catalog import load_catalog
from rules.config import parse_config
from rules.registry import rules_by_id

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"^```toml[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
RULES_SECTIONS = {"rules", "suppress", "cost", "report"}
AUDIT_SECTIONS = {"output", "spark", "snowflake", "bigquery", "spark-history"}


def toml_blocks() -> list[tuple[int, str]]:
    """(line number, text) of every ```toml block in the README."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def kind_of(data: dict[str, Any]) -> str:
    """Which file a block is an example of, from its top-level keys."""
    keys = set(data)
    if keys and keys <= RULES_SECTIONS:
        return "rules"
    if keys & AUDIT_SECTIONS:
        return "audit"
    if "as_of" in keys:
        return "catalog"
    return "unknown"


def test_the_readme_has_toml_examples() -> None:
    assert toml_blocks(), "README.md has no ```toml block: this test would check nothing"


@pytest.mark.parametrize(("line", "block"), toml_blocks(), ids=[f"line-{n}" for n, _ in toml_blocks()])
def test_readme_toml_block_loads(line: int, block: str, tmp_path: Path) -> None:
    data = tomllib.loads(block)
    kind = kind_of(data)
    if kind == "rules":
        config = parse_config(data)  # raises on an unknown rule, option or section
        for rule_id in data.get("rules", {}):
            assert rule_id in rules_by_id()
        assert config is not None
    elif kind == "audit":
        path = tmp_path / "audit.toml"
        path.write_text(block, encoding="utf-8")
        assert load_audit_config(path).sources  # raises AuditConfigError, one line, on any problem
    elif kind == "catalog":
        path = tmp_path / "catalog.toml"
        path.write_text(block, encoding="utf-8")
        assert load_catalog(str(path))
    else:
        pytest.fail(f"README.md line {line}: a ```toml block of unknown kind (sections {sorted(data)}); "
                    "teach tests/e2e/test_readme_toml.py the loader that reads it")



def test_blocks_are_told_apart_by_their_sections() -> None:
    audit = README.parent / "examples" / "audit.toml"
    assert kind_of(tomllib.loads(audit.read_text(encoding="utf-8"))) == "audit"
    assert load_audit_config(audit).sources  # the loader an audit block goes to
    assert kind_of({"rules": {}, "suppress": {}}) == "rules"
    assert kind_of({"as_of": "2026-11-01", "source": "x"}) == "catalog"
    assert kind_of({"something": 1}) == "unknown"
