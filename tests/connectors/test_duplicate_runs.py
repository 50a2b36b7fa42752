"""Duplicate runs are analysed once; logs sharing an id but not their content are both analysed."""

from __future__ import annotations

import dataclasses
import functools

from conftest import EVENTS

from analyzer.api import read_logs
from analyzer.api.spark import drop_duplicate_apps, find_logs
from analyzer.core.model import Application, InputError, Stage


@functools.cache
def _template() -> Application:
    sources, _ = find_logs([str(EVENTS / "apache-spark/spark-events/local-1430917381534")])
    app = read_logs(sources)[0]
    assert isinstance(app, Application) and app.stages
    return app


def _stage(stage_id: int, tasks: int) -> Stage:
    return dataclasses.replace(_template().stages[0], stage_id=stage_id, attempt_id=0, num_tasks=tasks)


def _app(source: str, stages: tuple[Stage, ...], complete: bool = True, app_id: str = "app-1") -> Application:
    return dataclasses.replace(_template(), source=source, app_id=app_id, stages=stages, complete=complete)


def test_copies_and_prefixes_are_one_run_other_content_is_another() -> None:
    s0, s1, s2 = _stage(0, 4), _stage(1, 8), _stage(2, 2)
    full = _app("full.zstd", (s0, s1, s2))
    unfinished = _app("full.inprogress", (s0, s1), complete=False)
    copy = _app("copy", (s0, s1, s2))
    other = _app("azure-variant", (s0, _stage(1, 9)))  # same id and start, different content
    errors: list[InputError] = []
    kept = drop_duplicate_apps([unfinished, full, copy, other], errors)
    assert [a.source for a in kept] == ["full.zstd", "azure-variant"]
    assert {e.source: e.message for e in errors} == {
        name: "duplicate of full.zstd: same application id and attempt, analysed once"
        for name in ("full.inprogress", "copy")}


def test_different_ids_are_never_duplicates() -> None:
    errors: list[InputError] = []
    apps = [_app("a", (_stage(0, 1),), app_id="a"), _app("b", (_stage(0, 1),), app_id="b")]
    assert drop_duplicate_apps(apps, errors) == apps and errors == []
