"""Every log layout and failure mode of the real corpus, on the bundled copies."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EVENTS

from analyzer.api import analyze_spark_logs, find_logs, read_log
from analyzer.core.model import Application, InputError

NVIDIA = EVENTS / "NVIDIA-spark-rapids-tools/core/src/test/resources"
KUBEFLOW = EVENTS / "kubeflow-mcp-apache-spark-history-server"


def read(path: Path) -> Application | InputError:
    sources, errors = find_logs([str(path)])
    assert not errors and len(sources) == 1
    return read_log(sources[0])


def figures(app: Application) -> list[tuple]:
    return [(s.stage_id, s.attempt_id, s.status, s.num_complete_tasks, s.metrics, s.tasks)
            for s in app.stages]


def test_rolling_and_databricks_layouts_of_one_run_agree() -> None:
    rolling = read(NVIDIA / "spark-events-qualification/eventlog_v2_local-1623876083964")
    databricks = read(NVIDIA / "spark-events-qualification/db_sim_eventlog")
    assert isinstance(rolling, Application) and isinstance(databricks, Application)
    assert rolling.integrity.files_read == 2 and databricks.integrity.files_read == 2
    assert rolling.app_id == databricks.app_id == "local-1623876083964"
    assert sum(s.num_complete_tasks for s in rolling.stages) == 2801
    assert figures(rolling) == figures(databricks)
    assert rolling.complete and databricks.complete


def test_rolling_zstd_folder_is_one_application() -> None:
    app = read(KUBEFLOW / "examples/basic/events/eventlog_v2_spark-bcec39f6201b42b9925124595baad260")
    assert isinstance(app, Application)
    assert app.app_id == "spark-bcec39f6201b42b9925124595baad260" and app.complete


def test_spark_1x_directory_layout() -> None:
    app = read(EVENTS / "apache-spark/legacy-branch-1.6-dir-format/spark-events/local-1422981759269")
    assert isinstance(app, Application)
    assert app.spark_version == "1.2.0" and app.complete and len(app.stages) == 6


def test_truncated_log_is_read_and_flagged_incomplete() -> None:
    app = read(NVIDIA / "spark-events-qualification/truncated_eventlog")
    assert isinstance(app, Application)
    assert not app.complete and app.end_time_ms is None and app.duration_ms is None
    assert app.stages


def test_malformed_line_is_skipped_and_counted() -> None:
    app = read(NVIDIA / "spark-events-profiling/malformed_json_eventlog.zstd")
    assert isinstance(app, Application)
    assert app.integrity.unparsed_lines == 1
    assert "line" in (app.integrity.first_error or "")
    assert len(app.stages) == 5 and app.complete


def test_incomplete_attempt_of_multi_attempt_app() -> None:
    folder = EVENTS / "apache-spark/spark-events-broken/previous-attempt-incomplete"
    report = analyze_spark_logs([str(folder)])
    by_attempt = {a.attempt_id: a for a in report.applications}
    assert set(by_attempt) == {"1", "2"}
    assert not by_attempt["1"].complete and by_attempt["2"].complete


def test_databricks_log_without_application_end() -> None:
    app = read(NVIDIA / "spark-events-qualification/db_subExecution_id.zstd")
    assert isinstance(app, Application)
    assert not app.complete and app.spark_version and app.stages


def test_empty_file_and_non_logs_are_named_errors() -> None:
    sparklint = EVENTS / "groupon-sparklint/src/test/resources"
    empty = read(sparklint / "file_event_log_empty_test")
    junk = read(sparklint / "invalid_log_file")
    driver_log = read(NVIDIA / "spark-events-profiling/driverlog")
    assert isinstance(empty, InputError) and empty.message == "empty file"
    assert isinstance(junk, InputError) and "not a Spark event log" in junk.message
    assert isinstance(driver_log, InputError) and "not a Spark event log" in driver_log.message
    assert junk.source.endswith("invalid_log_file")


def test_one_bad_log_in_a_folder_does_not_lose_the_others(tmp_path: Path) -> None:
    for i, name in enumerate(("local-1430917381534", "local-1422981759269", "local-1425081759269")):
        (tmp_path / f"local-{i}").write_bytes((EVENTS / "apache-spark/spark-events" / name).read_bytes())
    (tmp_path / "local-corrupt.zstd").write_bytes(b"\x28\xb5\x2f\xfd garbage that is not zstd" * 10)
    (tmp_path / "README.md").write_text("not a log, skipped by name")
    report = analyze_spark_logs([str(tmp_path)])
    assert len(report.applications) == 3
    assert [e.source for e in report.errors] == [str(tmp_path / "local-corrupt.zstd")]
    assert "\n" not in report.errors[0].message


def test_missing_path_and_missing_backend_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backend is made missing whatever is installed: with s3fs present (the [all] or [s3]
    # extra) the URL would otherwise be tried over the network instead.
    import fsspec

    real = fsspec.get_filesystem_class

    def without_s3(protocol: str):  # type: ignore[no-untyped-def]
        if protocol in ("s3", "s3a"):
            raise ImportError("Install s3fs to access S3")
        return real(protocol)

    monkeypatch.setattr(fsspec, "get_filesystem_class", without_s3)
    report = analyze_spark_logs(["/nonexistent/eventlogs", "s3://bucket/eventlogs/"])
    messages = {e.source: e.message for e in report.errors}
    assert messages["/nonexistent/eventlogs"] == "no such file or folder"
    assert messages["s3://bucket/eventlogs/"] == (
        "no backend for s3:// URLs; install it with pip install 'deanalyze[s3]'")


def test_fsspec_url_reads_like_a_local_path() -> None:
    path = EVENTS / "apache-spark/spark-events/local-1430917381534"
    via_url = analyze_spark_logs([f"file://{path}"]).applications
    via_memory = _memory_copy(path)
    direct = read(path)
    assert isinstance(direct, Application)
    assert figures(via_url[0]) == figures(direct) == figures(via_memory)


def _memory_copy(path: Path) -> Application:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/logs/app-1/local-1430917381534", path.read_bytes())
    report = analyze_spark_logs(["memory://logs/"])
    assert not report.errors, report.errors
    return report.applications[0]


def test_parallel_parse_gives_the_same_result() -> None:
    folder = str(EVENTS / "apache-spark/spark-events")
    serial = analyze_spark_logs([folder], jobs=1)
    parallel = analyze_spark_logs([folder], jobs=2)
    assert [figures(a) for a in serial.applications] == [figures(a) for a in parallel.applications]
    assert len(serial.applications) == 18


def test_secrets_in_properties_are_redacted(tmp_path: Path) -> None:
    src = (EVENTS / "apache-spark/spark-events/local-1430917381534").read_text()
    src = src.replace(
        '"Spark Properties":{', '"Spark Properties":{"spark.hadoop.fs.s3a.secret.key":"AKIAXYZ",', 1
    )
    (tmp_path / "local-1").write_text(src)
    app = read(tmp_path / "local-1")
    assert isinstance(app, Application)
    assert app.properties["spark.hadoop.fs.s3a.secret.key"] != "AKIAXYZ"


def test_zip_archives_as_the_history_server_downloads_them(tmp_path: Path) -> None:
    import zipfile

    from conftest import GENERATED

    archive = tmp_path / "eventLogs-download.zip"
    rolling = next((GENERATED / "rolling-zstd").iterdir())
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(EVENTS / "apache-spark/spark-events/local-1430917381534", "local-1430917381534")
        zf.write(next((GENERATED / "lz4").iterdir()), "logs/app.lz4")
        for f in rolling.iterdir():
            zf.write(f, f"{rolling.name}/{f.name}")
    report = analyze_spark_logs([str(tmp_path)])
    assert report.errors == ()
    by_name = {a.name: a for a in report.applications}
    assert set(by_name) == {"Spark shell", "deanalyze-gen-lz4", "deanalyze-gen-rolling-zstd"}
    plain = read(EVENTS / "apache-spark/spark-events/local-1430917381534")
    assert isinstance(plain, Application)
    assert figures(by_name["Spark shell"]) == figures(plain)
    assert by_name["deanalyze-gen-rolling-zstd"].complete
    assert by_name["Spark shell"].source == f"{archive}!/local-1430917381534"


def test_corrupt_zip_is_a_named_error(tmp_path: Path) -> None:
    bad = tmp_path / "logs.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    report = analyze_spark_logs([str(bad)])
    assert [e.source for e in report.errors] == [str(bad)]
    assert "zip" in report.errors[0].message


def test_every_bad_entry_in_a_folder_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    good = EVENTS / "apache-spark/spark-events/local-1430917381534"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "local-1").write_bytes(good.read_bytes())
    (tmp_path / "eventlog_v2_only-status").mkdir()
    (tmp_path / "eventlog_v2_only-status" / "appstatus_only-status").write_bytes(b"")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 junk")
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 20)
    zstd = NVIDIA / "spark-events-profiling/spark2-eventlog.zstd"
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "cut.zstd").write_bytes(zstd.read_bytes()[:200])
    (tmp_path / "z" / "local-2").write_bytes((good.parent / "local-1422981759269").read_bytes())  # not a copy
    report = analyze_spark_logs([str(tmp_path)])
    assert len(report.applications) == 2
    messages = {Path(e.source).name: e.message for e in report.errors}
    assert set(messages) == {"eventlog_v2_only-status", "broken.zip", "random.bin", "cut.zstd"}
    assert "zip" in messages["broken.zip"] and "not a Spark event log" in messages["random.bin"]
    assert "cut off" in messages["cut.zstd"] or "corrupt" in messages["cut.zstd"]


def test_symbolic_link_loops_are_searched_once(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    log = EVENTS / "apache-spark/spark-events/local-1430917381534"
    (tmp_path / "logs" / "local-1").write_bytes(log.read_bytes())
    (tmp_path / "logs" / "again").symlink_to(tmp_path / "logs", target_is_directory=True)
    report = analyze_spark_logs([str(tmp_path)])
    assert len(report.applications) == 1 and report.errors == ()
