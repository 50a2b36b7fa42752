"""``--engine spark``: logs read on Spark executors give the local engine's report, byte for byte.

One ``local[2]`` SparkContext serves the module (the engine uses the active context and
leaves it running); ``spark-submit`` on ``local-cluster`` (executors in their own JVMs and
Python workers, as on a real cluster) runs ``deploy/spark/deanalyze_job.py``. Every
comparison is the full JSON report minus ``generated_at``: per log (each log's own report,
from one Spark job per folder) and per folder (cross-application parts such as the monthly
projection).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import EVENTS, GENERATED

from analyzer.api import analyze_found_logs, find_logs, read_logs
from analyzer.api.output import render
from analyzer.api.spark_engine import _collect_one_by_one, plan_tasks, read_logs_on_spark
from analyzer.api.spark_session import spark_context
from analyzer.cli import main
from connectors.spark_eventlog.discovery import LogSource

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "spark-events"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    with spark_context("local[2]") as sc:
        yield sc


def doc(report: Any) -> dict:
    data = json.loads(render(report, "json"))
    data.pop("generated_at", None)
    return data


def replay(results: Sequence[Any]) -> Any:
    """A reader that returns results already read (to build each log's report from one Spark job)."""
    return lambda sources: list(results)


def assert_same_reports(paths: list[str]) -> int:
    """Per log and for all logs at once, the Spark engine's JSON equals the local engine's."""
    sources, errors = find_logs(paths)
    local = read_logs(sources)
    remote = read_logs_on_spark(sources)
    assert remote == local  # every Application field, every InputError
    for source, mine, theirs in zip(sources, local, remote, strict=True):
        assert doc(analyze_found_logs([source], reader=replay([theirs]))) == \
            doc(analyze_found_logs([source], reader=replay([mine]))), source.display
    assert doc(analyze_found_logs(sources, errors, reader=read_logs_on_spark)) == \
        doc(analyze_found_logs(sources, errors))
    return len(sources)


@pytest.mark.parametrize("folder", [EVENTS, GENERATED, EXAMPLES],
                         ids=["spark-events", "generated", "examples"])
def test_every_bundled_log_gives_the_same_json(spark: Any, folder: Path) -> None:
    assert assert_same_reports([str(folder)]) >= 9


@pytest.mark.corpus
def test_shared_corpus_gives_the_same_json(spark: Any, shared_events: Path) -> None:
    assert assert_same_reports([str(shared_events)]) > 100


def test_bad_inputs_are_the_same_errors(spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "garbage").write_bytes(b"\x00not an event log\n" * 50)
    zstd = next(GENERATED.glob("zstd/*"))
    (tmp_path / "cut.zstd").write_bytes(zstd.read_bytes()[: zstd.stat().st_size // 2])
    (tmp_path / "app.zstd").write_bytes(zstd.read_bytes())
    monkeypatch.chdir(tmp_path)  # relative paths: resolved from the driver's folder
    sources, _ = find_logs(["."])
    local = read_logs(sources)
    assert read_logs_on_spark(sources) == local
    assert sum(1 for r in local if type(r).__name__ == "InputError") >= 2


def test_cli_engine_spark_and_progress(spark: Any) -> None:
    runner = CliRunner()
    base = ["spark-logs", str(EXAMPLES), "--format", "json"]
    local = runner.invoke(main, base)
    remote = runner.invoke(main, [*base, "--engine", "spark", "--master", "local[2]"])
    assert remote.exit_code == local.exit_code == 0, remote.output
    assert _strip(remote.stdout) == _strip(local.stdout)
    seen: list[tuple[int, int]] = []
    sources, _ = find_logs([str(EXAMPLES)])
    read_logs_on_spark(sources, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(sources), len(sources))


def test_executors_run_the_shipped_code(spark: Any) -> None:
    paths = spark.parallelize([0], 1).flatMap(lambda _: __import__("sys").path).collect()
    assert any(Path(p).name.startswith("deanalyze-") and p.endswith(".zip") for p in paths)


def test_a_failed_task_loses_only_its_log(spark: Any) -> None:
    sources = [LogSource(display=f"log-{i}", files=(f"/nowhere/{i}",)) for i in range(3)]

    def fail_second(groups: Any) -> Iterator[tuple[int, str]]:
        for index, source in (pair for group in groups for pair in group):
            if index == 1:
                raise RuntimeError("worker lost")
            yield index, source.display

    pairs = dict(_collect_one_by_one(spark, fail_second, sources, None))
    assert pairs[0] == "log-0" and pairs[2] == "log-2"
    assert pairs[1].source == "log-1" and "Spark task reading this log failed" in pairs[1].message


def test_tasks_balance_sizes(tmp_path: Path) -> None:
    sizes = [50_000_000, 10, 10, 20_000_000, 30_000_000] + [1000] * 95
    sources = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"log-{i}"
        with open(path, "wb") as fh:
            fh.truncate(size)
        sources.append(LogSource(display=path.name, files=(str(path),)))
    tasks = plan_tasks(sources, slots=2)
    assert sorted(i for task in tasks for i in task) == list(range(100))
    assert len(tasks) == 8 and tasks[0] == [0]  # 4 per slot; the biggest log alone and first
    assert all(len(task) <= 16 for task in tasks)
    assert len(plan_tasks(sources[:3], slots=8)) == 3  # never more tasks than logs


def test_without_pyspark_one_usage_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from analyzer.api.audit_config import AuditConfigError, load_audit_config

    config = tmp_path / "audit.toml"
    config.write_text(f'[output]\ndir = "out"\n[[spark]]\nname = "fleet"\npaths = ["{EXAMPLES}"]\n'
                      'engine = "spark"\nmaster = "local[2]"\n')
    assert load_audit_config(config).sources[0].settings["engine"] == "spark"
    monkeypatch.setitem(sys.modules, "pyspark", None)
    result = CliRunner().invoke(main, ["spark-logs", str(EXAMPLES), "--engine", "spark"])
    assert result.exit_code == 2
    assert "engine spark needs pyspark: pip install 'deanalyze[spark]'" in result.output
    with pytest.raises(AuditConfigError, match=r"deanalyze\[spark\]"):
        load_audit_config(config)


def test_audit_source_with_engine_spark(spark: Any, tmp_path: Path) -> None:
    from analyzer.api.audit import run_audit
    from analyzer.api.audit_config import load_audit_config

    config = tmp_path / "audit.toml"
    config.write_text(f'[output]\ndir = "out"\nformats = ["json"]\n'
                      f'[[spark]]\nname = "local"\npaths = ["{EXAMPLES}"]\n'
                      f'[[spark]]\nname = "on-spark"\npaths = ["{EXAMPLES}"]\nengine = "spark"\n')
    result = run_audit(load_audit_config(config), "2026-W49")
    assert result.exit_code == 0
    folder = tmp_path / "out" / "2026-W49"
    assert _strip((folder / "on-spark.json").read_text()) == _strip((folder / "local.json").read_text())


def test_history_rerun_with_engine_spark_same_report(spark: Any, tmp_path: Path) -> None:
    history = str(tmp_path / "fleet.duckdb")
    args = ["spark-logs", str(EXAMPLES), "--engine", "spark", "--format", "json", "--history", history]
    first, second = (CliRunner().invoke(main, args) for _ in range(2))
    assert first.exit_code == second.exit_code == 0, first.output
    assert _strip(first.stdout) == _strip(second.stdout)


def test_spark_that_cannot_start_is_one_line() -> None:
    """A fresh process (no active session): a bad master URL is one line and exit 2, not a traceback."""
    command = [sys.executable, "-m", "analyzer.cli.main", "spark-logs", str(EXAMPLES), "--engine", "spark",
               "--master", "nonsense://x"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 2
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("deanalyze: could not start Spark on nonsense://x: ")
    assert "Traceback" not in run.stderr


def test_master_needs_engine_spark() -> None:
    result = CliRunner().invoke(main, ["spark-logs", str(EXAMPLES), "--master", "local[2]"])
    assert result.exit_code == 2 and "master: only with engine spark" in result.output


def test_spark_submit_on_local_cluster_gives_the_same_json(tmp_path: Path) -> None:
    """``spark-submit`` (the session is the submitter's) with executors in their own JVMs and
    Python workers, as on a real cluster: Spark's multi-process test master."""
    import pyspark

    paths = [str(EXAMPLES), str(GENERATED)]
    out = tmp_path / "cluster.json"
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    command = [str(submit), "--master", "local-cluster[2,1,1024]", "--conf", "spark.ui.enabled=false",
               str(REPO / "deploy/spark/deanalyze_job.py"), "spark-logs", *paths, "--engine", "spark",
               "--format", "json", "-o", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO,
                         env={**os.environ, "PYSPARK_PYTHON": sys.executable})
    assert run.returncode == 3, run.stderr[-2000:]  # the generated logs repeat an example log
    sources, errors = find_logs(paths)
    assert _strip(out.read_text()) == doc(analyze_found_logs(sources, errors))


def _strip(text: str) -> dict:
    data = json.loads(text)
    data.pop("generated_at", None)
    return data
