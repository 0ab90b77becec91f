"""Shared fixtures: an isolated Prefect home, one Prefect test server per session, fixtures."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Before anything imports prefect: a private PREFECT_HOME, no outside API, quiet logs.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="ringwatch-prefect-home-")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# ringwatch uses no Prefect blocks: the test server need not register every block type as it
# starts (about 2 of its 8 s of CPU).
os.environ.setdefault("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "false")
for _name in ("RINGWATCH_DB", "RINGWATCH_CONFIG", "RINGWATCH_AGENCY_MAP_URL"):
    os.environ.pop(_name, None)
# New warehouses copy the schema template from this session's own cache (never the user's
# ~/.cache), made by the first test that creates one, as on a user's machine after its first;
# tests/warehouse/test_schema_template.py runs the path without it.
SCHEMA_CACHE = tempfile.mkdtemp(prefix="ringwatch-schema-cache-")
os.environ["RINGWATCH_CACHE_DIR"] = SCHEMA_CACHE

import duckdb  # noqa: E402
import pytest  # noqa: E402

if TYPE_CHECKING:
    from ringwatch.warehouse.presentation.report.build import ReportFiles
    from ringwatch.warehouse.presentation.report.data import ReportData

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "research" / "data"

MAP_URL = "https://www.google.com/maps/d/kml?mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB&nl=1&forcekml=1"
TARGET_URL = "https://www.google.com/maps/d/kml?mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB&forcekml=1"
ROBOTS_URL = "https://www.google.com/robots.txt"

# Politeness and retries shrunk so failure tests run in milliseconds.
FAST_CONFIG = """
[http]
contact = "tests@example.org"
delay_seconds = 0.0
connect_timeout_seconds = 2.0
read_timeout_seconds = 2.0
total_timeout_seconds = 5.0
max_retries = 2
backoff_base_seconds = 0.0
backoff_max_seconds = 0.0
max_retry_after_seconds = 5.0
max_body_bytes = 2_000_000

[flow]
fetch_retries = 0
fetch_retry_delay_seconds = 0

[gates]
min_rows = 1
min_fraction_of_previous = 0.5
required_fields = ["name", "state"]

[sources.agency_map]
url = "{MAP_URL}"
""".replace("{MAP_URL}", MAP_URL)


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail, rather than hang the suite, if the block takes longer (SIGALRM: main thread only)."""
    def late(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def read_fixture(name: str) -> bytes:
    """Bytes of tests/fixtures/<name> (scrapy's get_testdata)."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One Prefect test server for the whole session (it takes ~20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(FAST_CONFIG, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def warehouse_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty warehouse file with every migration and view applied, made once per session (per
    xdist worker). Migrating a new database takes about 0.15 s of CPU; copying this one, 0.03 s."""
    from ringwatch.warehouse.db import connect

    path = tmp_path_factory.mktemp("warehouse-template") / "empty.duckdb"
    connect(path).close()
    return path


def fresh_warehouse(template: Path) -> duckdb.DuckDBPyConnection:
    """A new in-memory warehouse, as `connect(":memory:")` makes it: the template's catalog and
    rows copied in (tests/warehouse/test_load.py checks the copy against a migrated database)."""
    from ringwatch.warehouse.db import migrate

    connection = duckdb.connect(":memory:")
    quoted = str(template).replace("'", "''")
    connection.execute(f"ATTACH '{quoted}' AS warehouse_template (READ_ONLY)")
    connection.execute("COPY FROM DATABASE warehouse_template TO memory")
    connection.execute("DETACH warehouse_template")
    assert migrate(connection) == [], "the template is behind the migrations"
    return connection


def copy_database(source: Path, target: Path) -> Path:
    """A copy of a closed warehouse file (checkpointed: no .wal) and its captures folder."""
    from ringwatch.warehouse.captures import blob_dir_for

    assert not source.with_name(source.name + ".wal").exists(), f"{source} was not closed"
    shutil.copyfile(source, target)
    if blob_dir_for(source).exists():
        shutil.copytree(blob_dir_for(source), blob_dir_for(target))
    return target


@pytest.fixture
def con(warehouse_template: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse with every migration and view applied (sqlite-utils fresh_db)."""
    connection = fresh_warehouse(warehouse_template)
    yield connection
    connection.close()


@dataclass(frozen=True)
class SharedReport:
    """tests/report_db.py's warehouse, the report built from it, and the database's sha256 taken
    right before the build."""

    db: Path
    files: ReportFiles
    db_sha256_before: str


@pytest.fixture(scope="session")
def shared_report(tmp_path_factory: pytest.TempPathFactory) -> SharedReport:
    """The report of tests/report_db.py's warehouse, drawn once per session (drawing its charts
    takes seconds): the tests that use it only read the database and the files."""
    from ringwatch.warehouse.presentation.report.build import build_report
    from tests.report_db import build_report_db

    folder = tmp_path_factory.mktemp("report")
    db = build_report_db(folder / "small.duckdb")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with charts_remembered():  # a test that reports the same database again may reuse its charts
        return SharedReport(db, build_report(db, folder / "report.html"), before)


# Session fixtures built once per worker, whose tests therefore run together on one worker.
XDIST_GROUPS = {"prefect_server": "prefect", "shared_report": "report", "built": "publish"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`-n 2 --dist loadgroup`, as the README's test command runs), every
    test that needs the Prefect test server runs on one worker, so only one server starts
    (about 8 s of CPU), and every test of the shared report (or of the published release of
    tests/warehouse/test_publish.py) on one worker, so it is drawn once."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        groups = {group for fixture, group in XDIST_GROUPS.items() if fixture in fixtures}
        if item.get_closest_marker("prefect"):
            groups.add("prefect")
        assert len(groups) <= 1, f"{item.nodeid} needs two worker groups: {sorted(groups)}"
        for group in groups:
            item.add_marker(pytest.mark.xdist_group(group))


class GroupsInNodeIds:
    """xdist's worker tells the scheduler a test's group by appending "@group" to its node id,
    which it writes to `_nodeid`; pytest 9.2 keeps node ids in `_id`, so the suffix is lost and
    `--dist loadgroup` spreads every group over all workers (pytest-dev/pytest-xdist#1386, fix
    pending in #1388). Until then the suffix is appended here, after xdist's own hook ran."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            names = {str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                     for m in item.iter_markers("xdist_group")}
            suffix = "@" + "_".join(sorted(names))
            if names and not item.nodeid.endswith(suffix):
                item._id = type(item._id).parse(item.nodeid + suffix)


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "loadgroup", False):  # set by xdist on its workers under --dist loadgroup
        config.pluginmanager.register(GroupsInNodeIds(), "ringwatch-groups-in-node-ids")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(SCHEMA_CACHE, ignore_errors=True)


_DRAWN: list[tuple[object, object]] = []  # (what was drawn, the charts) in this worker


@contextmanager
def charts_remembered() -> Iterator[None]:
    """While open, a report's charts are drawn for real the first time given data is drawn in
    this worker and reused when equal data is drawn again (drawing takes seconds). Data that
    differs in anything but the time of day (the charts print the date), or other SVG text
    settings, is drawn anew; the charts are deterministic (svg.hashsalt), so a reused list is
    what a new drawing would give."""
    from dataclasses import replace
    from datetime import datetime, time

    import matplotlib

    from ringwatch.warehouse.presentation.report import build

    real = build.draw_charts

    def draw_once(data: ReportData) -> object:
        key = (replace(data, made_at=datetime.combine(data.made_at.date(), time())),
               matplotlib.rcParams["svg.fonttype"])
        for seen, charts in _DRAWN:
            if seen == key:
                return charts
        charts = real(data)
        _DRAWN.append((key, charts))
        return charts

    build.draw_charts = draw_once  # type: ignore[assignment]
    try:
        yield
    finally:
        build.draw_charts = real


@pytest.fixture
def charts_drawn_once() -> Iterator[None]:
    """For tests of how a command answers or where its files go, not of what the charts show."""
    with charts_remembered():
        yield


# --- S3: moto's server on 127.0.0.1, for the s3:// publish target and capture store ----------------

@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server_module = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """An s3fs filesystem on a new bucket, the endpoint and credentials given only as AWS's variables."""
    import s3fs

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = f"releases-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)
    try:
        yield fs, bucket
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
