"""The structure issue 21 asked for, kept: one ingest, typed values, no hand-spelled statuses.

These read the code (ast), so they fail the moment a job grows its own copy of the pipeline
or a status is spelled by hand again."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from ringwatch.flows.cli.app import cli
from ringwatch.flows.core.backfill import QuarterStatus
from ringwatch.flows.core.sync import SyncStatus
from ringwatch.warehouse.runs import LoadStatus, RunMode, RunStatus

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "scrapers", "warehouse", "config", "bench")


def modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@functools.cache
def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def calls_to(name: str) -> set[str]:
    """Every module (and line) calling `name`, as a plain name or an attribute."""
    found = set()
    for path in modules():
        for node in ast.walk(tree_of(path)):
            if isinstance(node, ast.Call):
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if callee == name:
                    found.add(path.relative_to(ROOT).as_posix())
            # a step runner is handed the function: step("load-...", load_agency_snapshot, ...)
            if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == name for a in node.args):
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_exactly_one_code_path_loads_an_agency_snapshot_and_one_loads_report_figures() -> None:
    # bench/ times the loader alone, on purpose; everything a user runs goes through ingest.
    assert calls_to("load_agency_snapshot") - {"bench/run.py", "bench/bench_agency_map.py"} == {"flows/core/ingest.py"}
    assert calls_to("load_reports") - {"bench/run.py"} == {"flows/core/ingest.py"}
    # and every job reaches it through the one ingest()
    callers = calls_to("ingest")
    assert {"flows/core/sync.py", "flows/core/atlas.py", "flows/core/reparse.py", "flows/core/backfill.py"} <= callers


def test_one_attempt_type_records_every_run() -> None:
    assert calls_to("start_run") == {"warehouse/runs.py"}
    assert calls_to("finish_run") == {"warehouse/runs.py"}
    assert calls_to("recorded_run") == set()


STATUS_WORDS = {str(s) for enum in (RunStatus, LoadStatus, QuarterStatus, SyncStatus) for s in enum}
MODE_WORDS = {str(m) for m in RunMode}


def test_no_status_is_spelled_by_hand_outside_its_enum() -> None:
    """A status word as a compared value, a status= argument or a dict key is the enum's, not text.
    (SQL text is the warehouse's edge and is not Python; string literals inside SQL are not checked.)"""
    offenders = []
    for path in modules():
        for node in ast.walk(tree_of(path)):
            spelled: list[ast.expr] = []
            if isinstance(node, ast.Compare):
                spelled = [node.left, *node.comparators]
            elif isinstance(node, ast.keyword) and node.arg == "status":
                spelled = [node.value]
            elif isinstance(node, ast.keyword) and node.arg == "mode" and isinstance(node.value, ast.Constant) \
                    and node.value.value in MODE_WORDS:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} mode={node.value.value!r}")
            elif isinstance(node, ast.Dict):
                spelled = [k for k in node.keys if k is not None]
            offenders += [f"{path.relative_to(ROOT)}:{e.lineno} {e.value!r}" for e in spelled
                          if isinstance(e, ast.Constant) and e.value in STATUS_WORDS]
    assert offenders == []


def test_no_settings_or_client_typed_any() -> None:
    offenders = []
    for path in modules():
        for node in ast.walk(tree_of(path)):
            typed_any = isinstance(node, ast.arg) and isinstance(node.annotation, ast.Name) \
                and node.annotation.id == "Any"
            if typed_any and node.arg in ("settings", "client"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_cli_chooses_where_a_job_runs_in_one_place() -> None:
    """No command branches on Prefect itself: each asks the one runner (flows/cli/runner.py)."""
    source = (ROOT / "flows/cli/app.py").read_text(encoding="utf-8")
    assert "configured_api" not in source
    # Only `serve`, which is Prefect by nature, reaches the Prefect shell directly.
    assert [line.strip() for line in source.splitlines() if "orchestration" in line] == [
        "from ringwatch.flows.orchestration.serve import serve_forever"]
    runs_a_job = {"sync", "backfill", "import-atlas", "reparse"}
    assert runs_a_job <= set(cli.commands)
