"""Every command, driven with generated options and arguments, answers plainly.

Whatever a user types (a path that does not exist, an empty string, an odd quarter, a piece
of SQL where a date belongs, the database's own path as an output), the answer is exit 0, 1
or 2 with no traceback and no "unexpected" error, which is what the CLI prints for an
exception it did not foresee. The commands and their options are read from the click group
itself, so a new command or option is driven too without editing this file.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringwatch.flows.cli import cli
from tests.conftest import FIXTURES


@dataclass(frozen=True)
class Sandbox:
    folder: Path
    db: Path
    config: Path


def _closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections: every fetch fails at once, offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    folder = tmp_path_factory.mktemp("cli-properties")
    dead = f"http://127.0.0.1:{_closed_port()}"
    config = folder / "settings.toml"
    # A short lock wait: a command that wrongly waits for the writer lock fails the test quickly
    # instead of hanging it for the default ten minutes.
    config.write_text(f"""
[warehouse]
lock_timeout_seconds = 5

[http]
contact = "tests@example.org"
delay_seconds = 0.0
connect_timeout_seconds = 1.0
read_timeout_seconds = 1.0
total_timeout_seconds = 2.0
max_retries = 0
backoff_base_seconds = 0.0
backoff_max_seconds = 0.0
patience_seconds = 5.0

[wayback]
base_url = "{dead}"

[sources.agency_map]
url = "{dead}/maps/d/kml?mid=x"

[sources.transparency]
report_urls = ["{dead}/blog/transparency-report"]
""", encoding="utf-8")
    for name in ("agency_map/active_agency_map_2024-01-15.kml", "transparency/report_2020_table_rows.html"):
        shutil.copy(FIXTURES / name, folder / Path(name).name)
    db = folder / "ringwatch.duckdb"
    seeded = CliRunner().invoke(cli, ["sync", "--db", str(db), "--config", str(config), "--observed-at",
                                      "2024-01-15", "--from-file", str(folder / "active_agency_map_2024-01-15.kml")])
    assert seeded.exit_code == 0, seeded.output
    before = Path.cwd()
    os.chdir(folder)  # relative paths a command is given land in the sandbox
    try:
        yield Sandbox(folder, db, config)
    finally:
        os.chdir(before)


SQL = ["", " ", ";", "-- nothing", "select 1; select 2", "SELECT * FROM agency_count_by_state",
       "SELECT count(*) FROM agencies", "COPY agencies TO 'out.csv'", "ATTACH 'other.duckdb'", "SELECT 1/0",
       "SELECT 'a' || NULL", "DELETE FROM agency_observations", "PRAGMA version", "select '\u00e9\u2603'"]
QUARTERS = ["2020Q1", "2023Q4", "2020Q5", "2020Q0", "Q3", "2020q2", "1899Q1", "99999Q1", "2020-Q1", ""]
MOMENTS = ["2024-01-15", "2024-13-45", "yesterday", "0001-01-01", "9999-12-31T23:59:59Z", "2024-01-15T25:00",
           ""]
JUNK = ["", " ", "-", "--", "0", "-1", "1e9", "abc", "\u00e9t\u00e9", "a" * 300, "'; DROP TABLE agencies; --",
        "../", "%s%n", "\t"]


def _paths(box: Sandbox) -> list[str]:
    return ["missing.kml", "nope/deeper/x.duckdb", ".", str(box.folder), str(box.db), f"{box.db}.lock",
            f"{box.db}.wal", "ringwatch.captures", "ringwatch.duckdb.captures",
            "active_agency_map_2024-01-15.kml", "report_2020_table_rows.html", "settings.toml", "out", "out.html",
            "report.html", "/dev/null", "", "nul\x00byte.duckdb"]


def _values(param: click.Parameter, box: Sandbox) -> st.SearchStrategy[str]:
    name = param.name or ""
    pool: list[str] = list(JUNK)
    if isinstance(param.type, click.Choice):
        pool += [str(choice) for choice in param.type.choices]
    if name in ("sql",):
        pool += SQL
    if name in ("quarter", "since", "until"):
        pool += QUARTERS
    if name in ("observed_at",):
        pool += MOMENTS
    if isinstance(param.type, click.Path) or name in ("path", "out", "png_dir", "from_file", "db_path",
                                                        "config_path", "target"):
        pool += _paths(box)
    return _mostly(st.sampled_from(pool), st.text(max_size=12))


def _mostly(usual: st.SearchStrategy[str], rare: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`usual` four times in five: a command given junk everywhere stops at the first bad
    option, so most examples must be plausible enough to reach the code behind it."""
    return st.integers(0, 4).flatmap(lambda n: rare if n == 0 else usual)


@st.composite
def _invocation(draw: st.DrawFn, name: str, box: Sandbox) -> list[str]:
    command = cli.commands[name]
    args = [name]
    for param in command.params:
        if isinstance(param, click.Argument):
            args.append(draw(_values(param, box)))
            continue
        if isinstance(param, click.Option) and isinstance(param.type, click.Choice) and draw(st.booleans()):
            args += [max(param.opts, key=len), draw(st.sampled_from([str(c) for c in param.type.choices]))]
            continue
        if not isinstance(param, click.Option) or param.name in ("help", "verbose"):
            continue
        flag = max(param.opts, key=len)
        if param.name == "db_path":
            # Mostly the seeded database, so that commands get past opening it.
            args += [flag, draw(_mostly(st.just(str(box.db)), _values(param, box)))]
        elif param.name == "config_path":
            args += [flag, draw(_mostly(st.just(str(box.config)), _values(param, box)))]
        elif not draw(st.booleans()):
            continue
        elif param.is_flag:
            args.append(flag)
        else:
            args += [flag, draw(_values(param, box))]
    if draw(st.integers(0, 19)) == 0:
        args.append(draw(st.sampled_from(JUNK)))  # a stray extra argument
    return args


def _check(args: list[str], runner: CliRunner) -> None:
    result = runner.invoke(cli, args, catch_exceptions=True)
    said = result.output + (result.stderr if result.stderr_bytes is not None else "")
    where = f"ringwatch {' '.join(repr(a) for a in args)} -> exit {result.exit_code}:\n{said[-2000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{where}\nraised {type(result.exception).__name__}: {result.exception}")
    assert result.exit_code in (0, 1, 2), where
    # The CLI's catch-all for an exception nobody foresaw ("Error: unexpected KeyError: ..."); click's
    # own usage errors ("got unexpected extra argument") are plain answers, exit 2.
    assert not UNFORESEEN.search(said), where
    assert "Traceback" not in said, where


UNFORESEEN = re.compile(r"Error: unexpected|unexpected \w*(Error|Exception|Interrupt|Exit)\b")
COMMANDS = sorted(name for name in cli.commands if name not in ("report", "publish"))


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` with good settings would run forever: stop it where it would start Prefect."""
    import ringwatch.flows.orchestration.serve as serve_module

    monkeypatch.setattr(serve_module, "serve_forever", lambda *a, **k: None)


@pytest.mark.parametrize("name", COMMANDS)
def test_no_command_answers_with_a_traceback_or_an_unexpected_error(
        name: str, sandbox: Sandbox, no_serving: None) -> None:
    runner = CliRunner()

    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(args=_invocation(name, sandbox))
    def drive(args: list[str]) -> None:
        _check(args, runner)

    drive()


def test_the_report_answers_plainly_too(sandbox: Sandbox, charts_drawn_once: None) -> None:
    """Fewer examples: a report that succeeds draws eleven charts (seconds each time; drawn once
    here, as the examples report the same data)."""
    runner = CliRunner()

    @settings(max_examples=6, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(args=_invocation("report", sandbox))
    def drive(args: list[str]) -> None:
        _check(args, runner)

    drive()


def test_publish_answers_plainly_too(sandbox: Sandbox, charts_drawn_once: None) -> None:
    """Fewer examples than the report even: a publish that succeeds draws the report's charts and
    writes every table twice, as Parquet and CSV."""
    runner = CliRunner()

    @settings(max_examples=3, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(args=_invocation("publish", sandbox))
    def drive(args: list[str]) -> None:
        _check(args, runner)

    drive()



@pytest.mark.parametrize("command", ["reparse", "sync", "status", "query"])
def test_a_database_path_that_is_not_a_database_is_a_plain_error_not_a_wait(command: str, sandbox: Sandbox) -> None:
    """The lock file's path contains "lock": once read as "the database is busy", and a
    command waited the whole lock timeout for a writer that did not exist."""
    args = {"sync": ["--from-file", "active_agency_map_2024-01-15.kml"], "query": ["SELECT 1"]}.get(command, [])
    result = CliRunner().invoke(cli, [command, *args, "--db", f"{sandbox.db}.lock", "--config", str(sandbox.config)])
    assert result.exit_code == 1, result.output
    assert "is not a DuckDB database" in result.output
