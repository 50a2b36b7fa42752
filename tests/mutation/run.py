"""Mutation testing of the modules that decide money, secrets, input framing and exit codes.

Why: a green suite says nothing about whether it would notice a wrong ``>=`` or a dropped
branch. mutmut plants such bugs one at a time; every mutant the targeted tests do not
kill is either a missing test or an equivalent mutant, justified in tests/README.md.

Each target is mutated in its own copy of the repository (``git archive HEAD``, or the
working tree with ``--working-tree``) under ``--workdir``, with a generated
``[tool.mutmut]`` that mutates only the target's modules and runs only the tests that
exercise them: one mutant costs seconds, not the whole suite.

    python3 tests/mutation/run.py                      # full run of every target
    python3 tests/mutation/run.py sql_text codecs      # some targets
    python3 tests/mutation/run.py --ci --base origin/main   # bounded CI run (< 5 min)

``--ci``: targets whose modules changed since ``--base`` are mutated whole; when none
changed (or the base is unknown), a fixed sample is: the functions in each of
``CI_TARGETS``' ``ci_sample``. A wall-clock budget (``--budget``, 270 s) stops the run and
keeps what finished; the script fails when the score of the mutants it ran is below
``--min-score``.
Results go to ``<workdir>/summary.json`` and stdout (per module, score, survivors).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Target:
    """Modules mutated together and the tests that are enough to judge them."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = ()
    ci_sample: tuple[str, ...] = field(default=())  # mutant-name globs run by --ci when nothing changed
    focus: str = ""  # regex of mutant names scored apart as well (the rules' measure() and check())


TARGETS: dict[str, Target] = {
    "sql_text": Target(
        ("analyzer/core/sql_text.py",),
        ("tests/core/test_sql_text.py", "tests/core/test_sql_masking_properties.py",
         "tests/core/test_warehouse_patterns.py"),
        ci_sample=("analyzer.core.sql_text.x_mask_literals*", "analyzer.core.sql_text.x__masker*"),
    ),
    "redaction": Target(
        ("connectors/warehouse_files.py", "connectors/spark_eventlog/errors.py",
         "connectors/spark_history/errors.py", "connectors/spark_eventlog/redaction.py"),
        ("tests/connectors/test_redaction_oracles.py",),
        ci_sample=("connectors.warehouse_files.x_scrub_secrets*",
                   "connectors.spark_eventlog.errors.x_redact_url*"),
    ),
    "codecs": Target(
        ("connectors/spark_eventlog/codecs.py",),
        ("tests/connectors/test_codec_errors.py", "tests/connectors/test_codecs.py"),
        ci_sample=("connectors.spark_eventlog.codecs.x__member_chunks*",
                   "connectors.spark_eventlog.codecs.x__lz4*"),
    ),
    "discovery": Target(
        ("connectors/spark_eventlog/discovery.py",),
        ("tests/connectors/test_layouts.py", "tests/connectors/test_discovery_oracles.py"),
        ci_sample=("connectors.spark_eventlog.discovery.x_discover*",),
    ),
    "exit_codes": Target(
        ("analyzer/api/output.py",),
        ("tests/e2e/test_exit_codes.py", "tests/e2e/test_output_file.py", "tests/e2e/test_cli.py"),
        # Never under mutation: a mutant of write_atomically renames a file over /dev/null (as root).
        pytest_args=("--deselect", "tests/e2e/test_cli.py::test_output_to_a_device_is_written_in_place"),
        ci_sample=("analyzer.api.output.x_exit_code*",),
    ),
    "money_spark": Target(
        ("analyzer/core/cost.py", "analyzer/core/timeline.py", "analyzer/core/ledger.py",
         "analyzer/core/spark_savings.py"),
        ("tests/core/test_money_oracles.py", "tests/core/test_cost.py", "tests/core/test_ledger.py",
         "tests/core/test_cost_oracles.py", "tests/core/test_ledger_oracles.py",
         "tests/core/test_spark_savings_oracles.py", "tests/core/test_timeline_oracles.py"),
        ci_sample=("analyzer.core.cost.x_ledger_core_hours*",),
    ),
    "money_warehouse": Target(
        ("analyzer/core/warehouse_usage.py", "analyzer/core/warehouse_cost.py",
         "analyzer/core/warehouse_savings.py"),
        ("tests/core/test_money_oracles.py", "tests/core/test_warehouse_cost.py",
         "tests/core/test_ledger.py", "tests/core/test_warehouse_usage_oracles.py",
         "tests/core/test_warehouse_savings_oracles.py"),
        ci_sample=("analyzer.core.warehouse_cost.x__attributed*",),
    ),
    "rule_measures": Target(
        ("rules/spark/spill.py", "rules/spark/gc_pressure.py", "rules/warehouse/select_star.py"),
        ("tests/rules/test_severity_boundaries.py", "tests/rules/test_rules_stage.py",
         "tests/rules/test_rules_warehouse.py"),
        ci_sample=("rules.spark.spill.x_measure*", "rules.spark.gc_pressure.x_measure*"),
        focus=r"\.(x_measure\w*|x_stars|x_execution_memory_per_task|xǁ\w+ǁcheck)__mutmut_",
    ),
}

CI_TARGETS = ("exit_codes", "redaction")  # the fixed sample when no target module changed
COPIED = ("analyzer", "connectors", "rules", "reports", "tests", "examples", "pyproject.toml")
STATUS = re.compile(r"^\s+(\S+): (.+)$")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen targets and print (and save) per-module scores and surviving mutants."""
    args = _parser().parse_args(argv)
    changed = _changed_files(args.base) if args.ci else set()
    names = args.targets or list(TARGETS)
    if args.ci and not args.targets:
        names = [n for n in TARGETS if changed.intersection(TARGETS[n].modules)] or list(CI_TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        print(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    budget = args.budget if args.budget is not None else (270.0 if args.ci else None)
    deadline = None if budget is None else time.monotonic() + budget
    summary: dict[str, dict[str, Any]] = {}
    for name in names:
        target = TARGETS[name]
        globs: tuple[str, ...] = tuple(args.only)
        if args.ci and not globs and not changed.intersection(target.modules):
            globs = target.ci_sample
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            print(f"[{name}] skipped: CI budget spent")
            continue
        summary[name] = _run_target(name, target, workdir / name, args, globs, remaining)
    saved = workdir / "summary.json"  # results of earlier runs of other targets are kept
    everything = json.loads(saved.read_text()) if saved.exists() else {}
    saved.write_text(json.dumps({**everything, **summary}, indent=2, sort_keys=True))
    return _report(summary, args.min_score)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help=f"targets to run (default all): {', '.join(TARGETS)}")
    parser.add_argument("--ci", action="store_true", help="bounded run: changed modules whole, else a sample")
    parser.add_argument("--base", default="origin/main", help="--ci: compare with this revision")
    parser.add_argument("--budget", type=float, default=None,
                        help="wall-clock seconds for all targets (--ci: 270); unfinished mutants not counted")
    parser.add_argument("--min-score", type=float, default=0.0, help="fail when a score (%%) is below this")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "deanalyze-mutation"))
    parser.add_argument("--working-tree", action="store_true", help="copy uncommitted files too (not HEAD)")
    parser.add_argument("--only", action="append", default=[], metavar="GLOB",
                        help="only the mutants whose names match (e.g. 'rules.spark.spill.x_measure*')")
    return parser


def _changed_files(base: str) -> set[str]:
    """Files changed between ``base`` and the working tree; none when ``base`` is unknown (shallow clone)."""
    proc = subprocess.run(["git", "diff", "--name-only", base], cwd=ROOT, capture_output=True, text=True)
    return set(proc.stdout.split()) if proc.returncode == 0 else set()


def _copy_tree(dest: Path, working_tree: bool) -> None:
    """A fresh copy of the sources and tests: HEAD by default, so others' edits cannot interfere."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if working_tree:
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
            else:
                shutil.copy2(src, dest / name)
        return
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", *COPIED], cwd=ROOT,
                             capture_output=True, check=True).stdout
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(dest, filter="data")


def _config(target: Target, work: Path) -> str:
    """The ``[tool.mutmut]`` table of one target (replaces the repository's own)."""
    def arr(items: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"
    tests = [t for t in target.tests if (work / t).exists()]
    missing = sorted(set(target.tests) - set(tests))
    if missing:  # a moved test file must not silently weaken the run
        raise SystemExit(f"test files not found in the copy: {', '.join(missing)}")
    pytest_args = ["-q", "-x", "-p", "no:cacheprovider", "-m", "not spark and not online", "-o", "addopts=",
                   *target.pytest_args]
    return (
        "[tool.mutmut]\n"
        f"source_paths = {arr(['analyzer', 'connectors', 'rules', 'reports'])}\n"
        f"only_mutate = {arr(target.modules)}\n"
        'also_copy = ["examples"]\n'
        f"pytest_add_cli_args_test_selection = {arr(tests)}\n"
        f"pytest_add_cli_args = {arr(pytest_args)}\n"
        # Fork each mutant from a server that has only collected the tests: forked from the
        # process that ran them, mutants would inherit warm functools caches (mask_literals,
        # credits_per_hour) and their unmutated answers.
        'process_isolation = "forkserver"\n'
        "timeout_multiplier = 10.0\n"  # 2 shared cores: a slow mutant must not pass for a killed one
        "use_git_change_detection = false\n"
    )


def _write_config(work: Path, target: Target) -> None:
    pyproject = work / "pyproject.toml"
    text = pyproject.read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
    pyproject.write_text(text.rstrip() + "\n\n" + _config(target, work))


def _mutmut() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]


def _run_target(name: str, target: Target, work: Path, args: argparse.Namespace, globs: tuple[str, ...],
                budget: float | None) -> dict[str, Any]:
    """Copy, configure, run mutmut, and collect the status of every mutant of the target."""
    start = time.monotonic()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    _copy_tree(work, args.working_tree)
    _write_config(work, target)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DEANALYZE_MUTATION": "1"}
    cmd = [*_mutmut(), "run", "--max-children", str(args.jobs), *globs]
    print(f"[{name}] {' '.join(cmd[1:])} in {work}", flush=True)
    log = (work / "mutmut.log").open("w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    interrupted = False
    try:
        proc.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        interrupted = True
        os.killpg(proc.pid, signal.SIGINT)  # mutmut stops cleanly and keeps what it finished
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    log.close()
    statuses = _statuses(work)
    if globs:
        patterns = [re.compile(g.replace(".", r"\.").replace("*", ".*") + "$") for g in globs]
        statuses = {k: v for k, v in statuses.items() if any(p.match(k) for p in patterns)}
    result = _score(statuses)
    if target.focus:
        focus = re.compile(target.focus)
        result["focus"] = _score({k: v for k, v in statuses.items() if focus.search(k)})
    result.update(seconds=round(time.monotonic() - start), interrupted=interrupted, sample=list(globs),
                  commit=commit + ("+working-tree" if args.working_tree else ""),
                  exit_code=proc.returncode, modules=_per_module(statuses))
    return result


def _statuses(work: Path) -> dict[str, str]:
    proc = subprocess.run([*_mutmut(), "results", "--all", "true"], cwd=work, capture_output=True, text=True)
    return {m.group(1): m.group(2).strip() for line in proc.stdout.splitlines() if (m := STATUS.match(line))}


def _score(statuses: dict[str, str]) -> dict[str, Any]:
    """Killed (timeouts count: the mutant made the tests hang) over everything tested."""
    killed = sum(s in ("killed", "timeout", "caught by type check") for s in statuses.values())
    tested = sum(s not in ("not checked", "skipped") for s in statuses.values())
    survivors = sorted(k for k, s in statuses.items() if s in ("survived", "no tests", "suspicious"))
    return {"killed": killed, "tested": tested, "total": len(statuses),
            "score": round(100 * killed / tested, 1) if tested else None, "survivors": survivors}


def _per_module(statuses: dict[str, str]) -> dict[str, Any]:
    modules: dict[str, dict[str, str]] = {}
    for key, status in statuses.items():
        module = key.split(".x_", 1)[0].split(".xǁ", 1)[0]
        modules.setdefault(module, {})[key] = status
    return {m: {k: v for k, v in _score(s).items() if k != "survivors"} for m, s in sorted(modules.items())}


def _report(summary: dict[str, dict[str, Any]], min_score: float) -> int:
    failed = False
    for name, result in summary.items():
        score = result["score"]
        print(f"\n== {name} at {result['commit']}: {result['killed']}/{result['tested']} killed ({score} %), "
              f"{result['seconds']} s{' (budget reached)' if result['interrupted'] else ''}")
        for module, figures in result["modules"].items():
            print(f"   {module}: {figures['killed']}/{figures['tested']} ({figures['score']} %)")
        if "focus" in result:
            focus = result["focus"]
            print(f"   measure()/check() only: {focus['killed']}/{focus['tested']} ({focus['score']} %)")
        for mutant in result["survivors"]:
            print(f"   survived: {mutant}")
        if score is not None and score < min_score:
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
