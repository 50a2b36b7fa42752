"""Copy the real event logs the tests need from ../shared/spark-events into tests/data.

The tests must pass on a fresh clone where ../shared does not exist, so a chosen set of
logs (every layout, codec and failure mode the corpus has) is copied here together with
a compact form of Spark 4.3 History Server's answers for them, and the upstream
History Server expectation files. Run from the repository root:

    python tests/data/make_fixtures.py [../shared/spark-events]
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from shs_oracle import compact_answer  # noqa: E402

NVIDIA = "NVIDIA-spark-rapids-tools/core/src/test/resources"
KUBEFLOW = "kubeflow-mcp-apache-spark-history-server"
LOGS = [
    "apache-spark/spark-events",  # every file: Spark 1.2-3.x, local, standalone, YARN, attempts
    "apache-spark/spark-events-broken",
    "apache-spark/legacy-branch-1.6-dir-format/spark-events/local-1422981759269",
    f"{KUBEFLOW}/examples/basic/events/eventlog_v2_spark-bcec39f6201b42b9925124595baad260",
    f"{KUBEFLOW}/skills/cli/e2e/spark-events/application_1713000000000_0001_1.zstd",
    f"{KUBEFLOW}/skills/cli/e2e/spark-events/application_1713000000000_0001_2.zstd",
    f"{KUBEFLOW}/skills/cli/e2e/spark-events/local-1776286786993.zstd",
    f"{NVIDIA}/spark-events-qualification/eventlog_v2_local-1623876083964",
    f"{NVIDIA}/spark-events-qualification/db_sim_eventlog",
    f"{NVIDIA}/spark-events-qualification/truncated_eventlog",
    f"{NVIDIA}/spark-events-qualification/db_subExecution_id.zstd",
    f"{NVIDIA}/spark-events-qualification/empty_eventlog",
    f"{NVIDIA}/spark-events-profiling/malformed_json_eventlog.zstd",
    f"{NVIDIA}/spark-events-profiling/tasks_executors_fail_compressed_eventlog.zstd",
    f"{NVIDIA}/spark-events-profiling/spark2-eventlog.zstd",
    f"{NVIDIA}/spark-events-profiling/driverlog",
    "groupon-sparklint/src/test/resources/file_event_log_empty_test",
    "groupon-sparklint/src/test/resources/invalid_log_file",
]
UPSTREAM = "apache-spark/HistoryServerExpectations"


def main(shared: Path) -> None:
    out_logs, out_answers = HERE / "spark-events", HERE / "shs-4.3"
    for folder in (out_logs, out_answers):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    index = json.loads((shared / "shs-4.3" / "INDEX.json").read_text())
    chosen: dict[str, str | None] = {}
    for rel in LOGS:
        src = shared / rel
        dst = out_logs / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        chosen.update({k: v for k, v in index.items() if k == rel or k.startswith(rel + "/")})
    for answer in chosen.values():
        if answer is not None:
            doc = compact_answer(shared / "shs-4.3" / answer)
            (out_answers / f"{answer}.json").write_text(json.dumps(doc, indent=1, sort_keys=True))
    (out_answers / "INDEX.json").write_text(json.dumps(chosen, indent=1, sort_keys=True))
    shutil.copytree(shared / UPSTREAM, out_logs / UPSTREAM)
    shutil.copy2(shared / "apache-spark/HistoryServerExpectations_cases.json", out_logs / "apache-spark")
    shutil.copy2(shared / "README.md", out_logs / "SOURCES.md")
    for path in out_logs.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    print(f"copied {len(LOGS)} log paths, {sum(v is not None for v in chosen.values())} answers")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parent.parent.parent / "shared" / "spark-events"))
