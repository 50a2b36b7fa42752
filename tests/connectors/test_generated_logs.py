"""Logs written by real Spark (pyspark 4.3) in every codec, rolling on and off, one killed mid-run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GENERATED, TESTS

from analyzer.api import find_logs, read_log
from analyzer.core.model import Application

MANIFEST = json.loads((GENERATED / "MANIFEST.json").read_text())["logs"]
LOGS = [e for e in MANIFEST if e["kind"] == "events" and not e["path"].split("/")[-1].startswith("appstatus")]


def variant_dir(entry: dict, root: Path = GENERATED) -> Path:
    return root / entry["variant"]


def read_variant(folder: Path) -> Application:
    sources, errors = find_logs([str(folder)])
    assert not errors and len(sources) == 1, (errors, sources)
    app = read_log(sources[0])
    assert isinstance(app, Application), app
    return app


def shape(app: Application) -> list[tuple]:
    """Stage figures that do not depend on timing (stage ids may be assigned in another order)."""
    return sorted(
        (s.status, s.num_tasks, s.num_complete_tasks, s.metrics.output_records, s.metrics.input_records)
        for s in app.stages
    )


@pytest.mark.parametrize("entry", LOGS, ids=lambda e: e["variant"])
def test_every_codec_and_layout_reads_as_spark_wrote_it(entry: dict) -> None:
    app = read_variant(variant_dir(entry))
    assert app.name == entry["app_name"]
    assert app.spark_version and app.spark_version.startswith("4.")
    assert app.complete is entry["complete"]
    assert app.integrity.unparsed_lines == 0
    if entry["complete"]:
        ran = [s for s in app.stages if s.status == "COMPLETE"]
        assert len(ran) == 9 and sum(s.num_complete_tasks for s in ran) == 23
        # AQE re-plans shuffles: stages its jobs announced but never ran are SKIPPED, as in the History Server
        assert all(s.status == "SKIPPED" and s.num_complete_tasks == 0 for s in app.stages if s not in ran)
        assert len(app.sql_executions) == 4
    else:
        assert app.end_time_ms is None and app.stages


def test_all_complete_codecs_give_the_same_figures() -> None:
    shapes = {e["variant"]: shape(read_variant(variant_dir(e))) for e in LOGS if e["complete"]}
    reference = shapes.pop("plain")
    assert shapes and all(s == reference for s in shapes.values()), shapes


def test_killed_lz4_log_is_cut_mid_block_and_still_read() -> None:
    app = read_variant(GENERATED / "killed-lz4")
    assert app.integrity.truncated_tail and not app.complete


@pytest.mark.spark
@pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed")
def test_fresh_spark_run_in_every_codec(tmp_path: Path) -> None:
    """Run real Spark now (CI does): every variant it writes is read like the checked-in ones."""
    pytest.importorskip("pyspark")
    script = TESTS / "scenarios" / "generate_spark_logs.py"
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)],
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh = json.loads((tmp_path / "MANIFEST.json").read_text())["logs"]
    reference = shape(read_variant(GENERATED / "plain"))
    for entry in fresh:
        if entry["kind"] != "events":
            continue
        app = read_variant(variant_dir(entry, tmp_path))
        assert app.complete is entry["complete"], entry
        if entry["complete"]:
            assert shape(app) == reference, entry["variant"]
