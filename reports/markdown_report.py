"""The Markdown report (default on stdout): readable in a terminal and on a review page.

Every string that came from the input (names, paths, descriptions) goes through
``md_text`` so that a hostile application name cannot break the tables.
"""

from __future__ import annotations

from analyzer.model import Application, Stage
from analyzer.report import Report
from reports.fmt import fmt_bytes, fmt_duration_ms, fmt_time_ms
from reports.renderer import Renderer

TOP_STAGES = 5


class MarkdownRenderer(Renderer):
    """Summary table, per-application detail, log-integrity notes and unreadable inputs."""

    media_type = "text/markdown"

    def render(self, report: Report) -> bytes:
        lines = ["# deanalyze report", "", f"Generated {report.generated_at} by deanalyze {report.tool_version}.", ""]
        lines += _summary(report)
        for app in report.applications:
            lines += _application(app)
        lines += _errors(report)
        return ("\n".join(lines).rstrip() + "\n").encode()


def md_text(value: object) -> str:
    """Input text made safe for a Markdown table cell."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def _summary(report: Report) -> list[str]:
    apps = report.applications
    out = ["## Summary", "",
           f"{len(apps)} application(s) read, {len(report.errors)} input(s) unreadable, "
           f"{len(report.findings)} finding(s).", ""]
    if apps:
        out += ["| application | id | Spark | status | duration | stages | tasks | executor run time |",
                "|---|---|---|---|---|---|---|---|"]
        for a in apps:
            tasks = sum(s.num_complete_tasks + s.num_failed_tasks + s.num_killed_tasks for s in a.stages)
            run = sum(s.metrics.executor_run_time_ms for s in a.stages)
            out.append(
                f"| {md_text(a.name)} | {md_text(_app_key(a))} | {md_text(a.spark_version or '?')} | "
                f"{'complete' if a.complete else 'incomplete'} | {fmt_duration_ms(a.duration_ms)} | "
                f"{len(a.stages)} | {tasks} | {fmt_duration_ms(run)} |")
        out.append("")
    return out


def _app_key(app: Application) -> str:
    return f"{app.app_id}/{app.attempt_id}" if app.attempt_id else app.app_id


def _application(app: Application) -> list[str]:
    out = [f"## {md_text(app.name) or md_text(app.app_id)} (`{md_text(_app_key(app))}`)", "",
           f"- Source: `{md_text(app.source)}`",
           f"- Started {fmt_time_ms(app.start_time_ms)}, ran {fmt_duration_ms(app.duration_ms)}"
           f"{'' if app.complete else ' (incomplete: no end recorded)'}",
           f"- Executors: {sum(1 for e in app.executors if not e.is_driver)}, "
           f"jobs: {len(app.jobs)}, SQL executions: {len(app.sql_executions)}"]
    out += _integrity(app)
    stages = sorted(app.stages, key=lambda s: s.metrics.executor_run_time_ms, reverse=True)[:TOP_STAGES]
    if stages:
        out += ["", "| stage | name | status | tasks (failed) | run time | input | shuffle read | "
                "shuffle write | spill (disk) | task time p50 / max |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        out += [_stage_row(s) for s in stages]
    return [*out, ""]


def _stage_row(s: Stage) -> str:
    m, q = s.metrics, s.tasks.duration_ms
    spread = f"{fmt_duration_ms(q.p50)} / {fmt_duration_ms(q.max)}" if q else "-"
    return (f"| {s.stage_id}.{s.attempt_id} | {md_text(s.name)[:60]} | {s.status} | "
            f"{s.num_tasks} ({s.num_failed_tasks}) | {fmt_duration_ms(m.executor_run_time_ms)} | "
            f"{fmt_bytes(m.input_bytes)} | {fmt_bytes(m.shuffle_read_bytes)} | "
            f"{fmt_bytes(m.shuffle_write_bytes)} | {fmt_bytes(m.disk_bytes_spilled)} | {spread} |")


def _integrity(app: Application) -> list[str]:
    i = app.integrity
    notes = []
    if i.truncated_tail:
        notes.append("the log ends in a cut-off line or frame (still being written, or copied mid-write)")
    if i.unparsed_lines:
        notes.append(f"{i.unparsed_lines} line(s) could not be decoded and were skipped ({md_text(i.first_error)})")
    if i.tasks_expected and i.task_end_events < i.tasks_expected:
        notes.append(f"{i.tasks_expected - i.task_end_events} task end event(s) missing for finished stages")
    return [f"- Log integrity: {n}" for n in notes]


def _errors(report: Report) -> list[str]:
    if not report.errors:
        return []
    out = ["## Inputs that could not be read", ""]
    out += [f"- `{md_text(e.source)}`: {md_text(e.message)}" for e in report.errors]
    return [*out, ""]
