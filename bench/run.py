"""ringwatch beside its peers: the lxml floor for parsing, dlt for loading, Prefect's start-up.

One run prints every figure: the median of --runs runs after a warm-up, with min and max, and
the peak resident memory of each step (VmHWM, reset before the step: it counts lxml's and
DuckDB's C allocations too). Ratios are taken pair by pair within the same run.

    pip install -e '.[bench]'      # dlt, for the load comparison
    python bench/run.py            # about 40 minutes on a 2-core machine (dlt: 2 min a 270,000 run)
    python bench/run.py --sizes 2700 --runs 5 --skip-e2e   # a quick look
    python bench/run.py --only history                     # one section
    python bench/run.py --only profile --sizes 2700        # where the time goes (cProfile)
    python bench/run.py --only floors --sizes 2700 27000   # what no normalizer can shorten

Identity resolution runs inside every load, so the load figures include it; the identity
section loads a map across the 2021 format change and prints the joins and departures that
result (both 0 when every agency was recognised).

Targets (issue 24), read from the output: parse within 3x of the lxml floor; load at least 10x
faster than dlt at every size, into a new warehouse (its creation included: printed both with
the schema template cached, as every new warehouse but a machine's first is made, and without)
and at steady state (the 40th quarter, in the history section); 270,000 placemarks within 120x
the time of 2,700 and under 1 GB; each trend view under 100 ms; a cold `ringwatch sync
--from-file` (no Prefect API configured) within 3x of a bare Python importing duckdb, lxml and
requests; the 40th quarter's load within 1.3x of the 2nd's (issue 21).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from bench.synthetic_map import synthetic_map_kml, synthetic_quarters  # noqa: E402
from ringwatch.scrapers.agency_map import parse_agency_map  # noqa: E402
from ringwatch.scrapers.records import Snapshot  # noqa: E402
from ringwatch.scrapers.sources import Source  # noqa: E402
from ringwatch.warehouse.db import connect  # noqa: E402
from ringwatch.warehouse.load import load_agency_snapshot  # noqa: E402
from ringwatch.warehouse.quality import merge_duplicates  # noqa: E402
from ringwatch.warehouse.quarters import Quarter  # noqa: E402
from ringwatch.warehouse.schema_template import CACHE_DIR_VARIABLE  # noqa: E402
from ringwatch.warehouse.sql import NUMPY_FROM_ROWS  # noqa: E402

OBSERVED = datetime(2025, 4, 1, 6, tzinfo=UTC)


def reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __init__(self, runs: int) -> None:
        self.runs = runs

    def measure(self, fn: Callable[[], Any], *, runs: int | None = None) -> tuple[list[float], float, Any]:
        result = fn()  # warm-up
        times = []
        reset_peak()
        for _ in range(runs or self.runs):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        return times, peak_mib(), result


def show(label: str, times: list[float], peak: float | None = None, extra: str = "") -> float:
    median = statistics.median(times)
    unit, scale = ("s", 1.0) if median >= 1 else ("ms", 1000.0)
    mem = f"{peak:8.0f} MiB" if peak is not None else " " * 12
    print(f"  {label:44} {median * scale:9.1f} {unit:2} ({min(times) * scale:.1f}-{max(times) * scale:.1f})  {mem}"
          f"  {extra}", flush=True)
    return median


def lxml_floor(data: bytes) -> int:
    count = 0
    for _event, element in etree.iterparse(io.BytesIO(data), tag="{*}Placemark", resolve_entities=False,
                                           no_network=True, load_dtd=False):
        count += 1
        element.clear(keep_tail=True)
    return count


def dlt_load(records: list[dict[str, Any]], workdir: Path, n: str) -> None:
    import dlt

    destination = dlt.destinations.duckdb(str(workdir / f"dlt{n}.duckdb"))
    pipeline = dlt.pipeline(pipeline_name=f"bench{n}", destination=destination, dataset_name="ringwatch",
                            pipelines_dir=str(workdir / "pipelines"))
    pipeline.run(records, table_name="agency_snapshots", write_disposition="merge",
                 primary_key=("quarter", "agency_id"))


@contextlib.contextmanager
def schema_cache_off() -> Iterator[None]:
    """New warehouses built from the migrations, as the first one on a machine is."""
    before = os.environ.get(CACHE_DIR_VARIABLE)
    os.environ[CACHE_DIR_VARIABLE] = ""
    try:
        yield
    finally:
        if before is None:
            del os.environ[CACHE_DIR_VARIABLE]
        else:
            os.environ[CACHE_DIR_VARIABLE] = before


def sizes_section(sizes: list[int], timer: Timer, workdir: Path) -> dict[int, float]:
    totals = {size: measure_size(size, timer, workdir) for size in sizes}
    if len(totals) > 1:
        small, large = min(totals), max(totals)
        print(f"\nscaling: {large // small}x the placemarks took {totals[large] / totals[small]:.0f}x the time "
              "(parse + load)")
    return totals


def measure_size(size: int, timer: Timer, workdir: Path) -> float:
    """Parse and load one synthetic map, beside the lxml floor and dlt; return parse + load."""
    print(f"\n{size:,} placemarks")
    data = synthetic_map_kml(size)
    runs = timer.runs if size < 100_000 else max(5, timer.runs // 2)
    t_parse, m_parse, agencies = timer.measure(lambda: parse_agency_map(data, source_url="bench"), runs=runs)
    t_floor, m_floor, count = timer.measure(lambda: lxml_floor(data), runs=runs)
    assert count == len(agencies) == size
    kept, _ = merge_duplicates(agencies)
    snapshot = Snapshot(Source.AGENCY_MAP, Quarter(2025, 1), OBSERVED, tuple(kept))
    counter = iter(range(10**6))

    def ringwatch_load() -> None:
        con = connect(workdir / f"rw{size}-{next(counter)}.duckdb")
        load_agency_snapshot(con, snapshot, capture_id=1, origin="file", run_id=1)
        con.close()

    records = [{"quarter": "2025Q1", "agency_id": a.agency_id, "name": a.name, "agency_type": a.agency_type,
                "type_basis": a.type_basis, "layer": a.layer, "address": a.address, "city": a.city,
                "state": a.state, "active_date": a.active_date, "latitude": a.latitude,
                "longitude": a.longitude, "profile_url": a.profile_url, "capture_id": 1,
                "observed_at": OBSERVED} for a in kept]
    t_load, m_load, _ = timer.measure(ringwatch_load, runs=runs)
    t_fresh, _, _ = timer.measure(lambda: connect(workdir / f"rw{size}-{next(counter)}.duckdb").close(), runs=runs)
    with schema_cache_off():  # the first warehouse on a machine: built from the migrations
        t_cold, _, _ = timer.measure(ringwatch_load, runs=runs)
        t_cold_fresh, _, _ = timer.measure(lambda: connect(workdir / f"rw{size}-{next(counter)}.duckdb").close(),
                                           runs=runs)
    dlt_counter = iter(range(10**6))
    t_dlt, m_dlt, _ = timer.measure(lambda: dlt_load(records, workdir, f"{size}_{next(dlt_counter)}"), runs=runs)
    parse_median = show("parse: ringwatch", t_parse, m_parse)
    floor_median = show("parse: lxml floor (count Placemarks)", t_floor, m_floor,
                        f"ratio ringwatch/floor {parse_median / statistics.median(t_floor):.1f}x")
    load_median = show("load: ringwatch into a new DuckDB file", t_load, m_load)
    show("  of which: create the warehouse (copy of the cached schema)", t_fresh)
    cold_median = show("load: the same, no schema cached (first on a machine)", t_cold)
    show("  of which: create the warehouse (migrations, views)", t_cold_fresh)
    dlt_median = statistics.median(t_dlt)
    show("load: dlt merge into DuckDB", t_dlt, m_dlt,
         f"ratio dlt/ringwatch {dlt_median / load_median:.1f}x, first on a machine "
         f"{dlt_median / cold_median:.1f}x (target 10x)")
    del floor_median
    return parse_median + load_median


def floors_section(sizes: list[int], timer: Timer) -> None:
    """The costs a parse into typed Python records and a load through DuckDB's Python API carry
    before any normalizing or identity work, beside the floor the parse target is set against:
    the arithmetic behind docs/performance.md's "what stands in the way". The reader's own
    skeleton (its removals keep memory flat and bound hostile files) is ringwatch's; the rest is
    lxml's proxies, CPython's objects and DuckDB's parameter conversion."""
    print("\nfloors: what a parse into records and a load through DuckDB's Python API cost before any normalizing")
    for size in [s for s in sizes if s <= 27_000]:
        parse_floors(size, timer)
    for size in sizes:
        batch_floor(size, timer)
    t_connect, _, _ = timer.measure(lambda: duckdb_memory().close())
    show("duckdb.connect(':memory:') and close", t_connect)


def parse_floors(size: int, timer: Timer) -> None:
    from dataclasses import fields

    from ringwatch.scrapers.agency_map import read_kml
    from ringwatch.scrapers.records import Agency

    data = synthetic_map_kml(size)
    agencies = parse_agency_map(data, source_url="bench")
    arguments = [{f.name: getattr(a, f.name) for f in fields(Agency)} for a in agencies]
    t_floor, _, _ = timer.measure(lambda: lxml_floor(data))
    t_reader, _, found = timer.measure(lambda: read_kml(data, url="bench", links_only=True))
    t_visit, _, _ = timer.measure(lambda: lxml_visit(data))
    t_records, _, built = timer.measure(lambda: [Agency(**kw) for kw in arguments])
    assert built == agencies, "the records built from ready values differ from the parse's"
    assert not found.agencies, "links_only read records"
    floor = statistics.median(t_floor)
    per = 1e6 / size
    print(f"  {size:,} placemarks")
    show("lxml floor (count Placemarks)", t_floor)
    reader = show("ringwatch's reader, no record built", t_reader, None,
                  f"{statistics.median(t_reader) / floor:.1f}x the floor (its removals keep memory flat)")
    visit = show("the floor + each element's tag and text read", t_visit, None,
                 f"+{(statistics.median(t_visit) - floor) * per:.1f} us a placemark (an lxml proxy each)")
    records = show("the records built from ready values", t_records, None,
                   f"{statistics.median(t_records) * per:.1f} us a placemark")
    fixed = reader + (visit - floor) + records
    room = (3 * floor - fixed) * per
    print(f"  {'sum: the least a parse into records takes':44} {fixed * 1000:9.1f} ms  {fixed / floor:.1f}x the "
          f"floor; within 3x leaves {room:.1f} us a placemark for every normalizer", flush=True)


def batch_floor(size: int, timer: Timer) -> None:
    """One load's observation batch (21 columns) handed to DuckDB and counted, as warehouse/sql.py
    hands it: list parameters under NUMPY_FROM_ROWS rows, numpy arrays from there."""
    from ringwatch.warehouse.sql import select_batch

    columns: dict[str, Sequence[object]] = {f"text{i}": [f"value {i} {n}" for n in range(size)] for i in range(15)}
    columns |= {"number": list(range(size)), "flag": [True] * size, "day": [OBSERVED.date()] * size,
                "latitude": [0.5] * size, "longitude": [-0.5] * size, "observed_at": [OBSERVED] * size}
    con = duckdb_memory()
    try:
        t_batch, _, counted = timer.measure(lambda: select_batch(con, "SELECT count(*) FROM batch", columns))
    finally:
        con.close()
    assert counted == [(size,)], f"the batch held {counted}, not {size} rows"
    show(f"{size:,} rows of 21 columns handed to DuckDB", t_batch, None,
         f"{statistics.median(t_batch) * 1e6 / size:.1f} us a row "
         f"({'list parameters' if size < NUMPY_FROM_ROWS else 'numpy arrays'})")


def duckdb_memory() -> Any:
    import duckdb

    return duckdb.connect(":memory:")


def lxml_visit(data: bytes) -> int:
    """The floor, and each placemark's elements visited in Python as any reader of them must."""
    count = 0
    for _event, element in etree.iterparse(io.BytesIO(data), tag="{*}Placemark", resolve_entities=False,
                                           no_network=True, load_dtd=False):
        for part in element.iter():
            count += part.tag is not None and part.text is not None
        element.clear(keep_tail=True)
    return count


def identity_section(sizes: list[int], timer: Timer, workdir: Path) -> None:
    """The cost of identity resolution across the 2021 format change, and the proof it worked."""
    print("\nidentity: a 2020-era map (names abbreviated, no profiles) in the database, then the 2021-era map "
          "of the same agencies (profiles) loaded and resolved")
    from ringwatch.warehouse.identity_store import reresolve

    for size in sizes:
        old, _ = merge_duplicates(parse_agency_map(synthetic_map_kml(size, with_profiles=False, retyped=True),
                                                   source_url="bench"))
        new, _ = merge_duplicates(parse_agency_map(synthetic_map_kml(size), source_url="bench"))
        first = Snapshot(Source.AGENCY_MAP, Quarter(2020, 3), OBSERVED, tuple(old))
        second = Snapshot(Source.AGENCY_MAP, Quarter(2021, 4), OBSERVED, tuple(new))
        runs = timer.runs if size < 100_000 else max(3, timer.runs // 2)
        times: list[float] = []
        resolve_times: list[float] = []
        reset_peak()
        for n in range(runs + 1):  # the first is the warm-up
            con = connect(workdir / f"id{size}-{n}.duckdb")
            load_agency_snapshot(con, first, capture_id=1, origin="wayback", run_id=1)
            start = time.perf_counter()
            load_agency_snapshot(con, second, capture_id=2, origin="live", run_id=2)
            loaded = time.perf_counter() - start
            start = time.perf_counter()
            reresolve(con)
            resolved = time.perf_counter() - start
            if n:
                times.append(loaded)
                resolve_times.append(resolved)
            row = con.execute("SELECT joined, \"left\" FROM agency_counts_by_quarter WHERE quarter = '2021Q4'"
                              ).fetchone()
            con.close()
        assert row is not None
        show(f"{size:,}: load + resolve the second era", times, peak_mib(),
             f"joined {row[0]:,}, left {row[1]:,} across the change (0 and 0 when resolved)")
        show(f"{size:,}: re-resolve both quarters alone", resolve_times)


def views_section(timer: Timer, workdir: Path) -> None:
    print("\ntrend views over 40 quarters of 2,700 agencies")
    agencies, _ = merge_duplicates(parse_agency_map(synthetic_map_kml(2700), source_url="bench"))
    con = connect(workdir / "views.duckdb")
    quarter = Quarter(2015, 1)
    for n in range(40):
        # each quarter drops a few agencies and the next ones join, so joins and departures exist
        window = agencies[n * 5: n * 5 + 2500]
        load_agency_snapshot(con, Snapshot(Source.AGENCY_MAP, quarter, OBSERVED, tuple(window)), capture_id=1,
                             origin="file", run_id=1)
        quarter = quarter.next()
    from ringwatch.scrapers.transparency import parse_report_page
    from ringwatch.warehouse.load_transparency import ParsedReport, load_reports
    page = parse_report_page((ROOT / "tests/fixtures/transparency/report_2020_table_rows.html").read_bytes(),
                             source_url="https://example.org/r")
    for n in range(40):
        load_reports(con, [ParsedReport(replace(page, url=f"https://example.org/r{n}"), n + 1, OBSERVED)])
    from ringwatch.warehouse.identity_store import reresolve

    times, peak, _ = timer.measure(lambda: reresolve(con))
    show("identity: re-resolve 40 quarters (100,000 observations)", times, peak)
    for view in ("agency_counts_by_quarter", "agency_counts_by_state", "agency_identity_review",
                 "le_requests_by_period"):
        def select_all(v: str = view) -> list[Any]:
            return con.execute(f"SELECT * FROM {v}").fetchall()

        times, peak, rows = timer.measure(select_all)
        show(f"SELECT * FROM {view}", times, peak, f"{len(rows):,} rows")
    con.close()
    from ringwatch.warehouse.presentation.report.build import build_report

    def report() -> Any:
        return build_report(workdir / "views.duckdb", workdir / "report.html")

    times, peak, files = timer.measure(report)
    show("ringwatch report (7 charts, HTML + PNGs)", times, peak,
         f"{files.html.stat().st_size / 1024:,.0f} KiB HTML")


def history_section(timer: Timer, workdir: Path, *, size: int = 2700, quarters: int = 40) -> None:
    """A load's cost as the quarters held grow: the 40th load against the 2nd (target 1.3x).

    Successive synthetic maps (bench/synthetic_map.py, synthetic_quarters) keep most agencies and
    change a few: joins, departures, renames, new profiles, rows without their profile link. Each
    figure loads quarter n into a copy of the warehouse holding the n-1 before it, opened afresh
    as a sync would. Each map is parsed just before its load (untimed), so that, as in a sync,
    one parsed map is alive: forty would make every garbage collection during a load walk them.
    """
    print(f"\nhistory: {quarters} quarters of about {size:,} agencies loaded one after another "
          "(joins, departures, renames, new profiles)")
    maps = synthetic_quarters(size, quarters)
    labels = [Quarter(2015, 1)]
    while len(labels) < quarters:
        labels.append(labels[-1].next())

    def snapshot(n: int) -> Snapshot:
        kept, _ = merge_duplicates(parse_agency_map(maps[n - 1], source_url="bench"))
        quarter = labels[n - 1]
        observed = datetime.combine(quarter.last_day, datetime.min.time(), tzinfo=UTC)
        return Snapshot(Source.AGENCY_MAP, quarter, observed, tuple(kept))

    path = workdir / "history.duckdb"
    con = connect(path)
    once: dict[int, float] = {}
    for n in range(1, quarters + 1):
        if n in (2, quarters):
            con.close()
            shutil.copyfile(path, workdir / f"history-before-{n}.duckdb")
            con = connect(path)
        loading = snapshot(n)
        start = time.perf_counter()
        load_agency_snapshot(con, loading, capture_id=n, origin="file", run_id=n)
        once[n] = time.perf_counter() - start
    del loading
    from ringwatch.warehouse.identity_store import reresolve

    start = time.perf_counter()
    changed = reresolve(con).reidentified
    full = time.perf_counter() - start
    observations = con.execute("SELECT count(*) FROM agency_observations").fetchall()[0][0]
    con.close()
    print("  one pass, load n of " + ", ".join(f"{n}: {once[n] * 1000:.0f} ms"
                                                for n in sorted({1, 2, 10, 20, 30, quarters})))
    counter = iter(range(10**6))
    wall: dict[int, float] = {}
    cpu: dict[int, float] = {}
    opened: dict[int, list[float]] = {2: [], quarters: []}  # open, load, close: what dlt's run includes
    for n in (2, quarters):
        loading = snapshot(n)
        times, cpu_times = [], []
        reset_peak()
        for run in range(timer.runs + 1):  # the first is the warm-up
            copy = workdir / f"history-{n}-{next(counter)}.duckdb"
            shutil.copyfile(workdir / f"history-before-{n}.duckdb", copy)
            opening = time.perf_counter()
            con = connect(copy)
            start, start_cpu = time.perf_counter(), time.process_time()
            load_agency_snapshot(con, loading, capture_id=n, origin="file", run_id=n)
            if run:
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - start_cpu)
            con.close()
            if run:
                opened[n].append(time.perf_counter() - opening)
            copy.unlink()
        cpu[n] = statistics.median(cpu_times)
        wall[n] = show(f"load quarter {n} into a warehouse holding {n - 1}", times, peak_mib(),
                       f"{len(loading.agencies):,} agencies; CPU {cpu[n] * 1000:.1f} ms")
    rows = {n: len(snapshot(n).agencies) for n in (2, quarters)}
    print(f"  ratio load {quarters} / load 2: {wall[quarters] / wall[2]:.2f}x (target 1.3x; CPU time "
          f"{cpu[quarters] / cpu[2]:.2f}x; per agency {wall[quarters] / rows[quarters] / (wall[2] / rows[2]):.2f}x)")
    print(f"  full re-resolution of all {observations:,} observations afterwards: {full * 1000:.0f} ms, "
          f"{changed} observation(s) changed id (0: the loads' ids are the from-scratch ones)")
    try:
        import dlt  # noqa: F401
    except ImportError:
        print("  steady state against dlt: skipped (pip install -e '.[bench]' for dlt)")
        return
    whole = show(f"ringwatch: open the warehouse, load quarter {quarters}, close", opened[quarters])
    dlt_wall = dlt_steady_state([records_of(snapshot(n)) for n in range(1, quarters + 1)], timer, workdir)
    print(f"  steady state: dlt / ringwatch, quarter {quarters} into {quarters - 1} held, opening included: "
          f"{dlt_wall / whole:.1f}x (target 10x)")


def records_of(snapshot: Snapshot) -> list[dict[str, Any]]:
    """A snapshot's rows as dlt is given them: the columns ringwatch's agency_snapshots holds."""
    return [{"quarter": str(snapshot.quarter), "agency_id": a.agency_id, "name": a.name,
             "agency_type": a.agency_type, "type_basis": a.type_basis, "layer": a.layer, "address": a.address,
             "city": a.city, "state": a.state, "active_date": a.active_date, "latitude": a.latitude,
             "longitude": a.longitude, "profile_url": a.profile_url, "capture_id": 1,
             "observed_at": snapshot.observed_at} for a in snapshot.agencies]


def dlt_steady_state(quarters: list[list[dict[str, Any]]], timer: Timer, workdir: Path) -> float:
    """dlt merging the last quarter into its own dataset already holding the ones before (built
    once, restored before each timed run, its pipeline state included); returns the median."""
    import dlt

    here, held = workdir / "dlt-steady", workdir / "dlt-steady-held"

    def merge(records: list[dict[str, Any]]) -> None:
        pipeline = dlt.pipeline(pipeline_name="steady", dataset_name="ringwatch", pipelines_dir=str(here / "p"),
                                destination=dlt.destinations.duckdb(str(here / "steady.duckdb")))
        pipeline.run(records, table_name="agency_snapshots", write_disposition="merge",
                     primary_key=("quarter", "agency_id"))

    for records in quarters[:-1]:
        merge(records)
    shutil.copytree(here, held)
    times = []
    reset_peak()
    for run in range(timer.runs + 1):  # the first is the warm-up
        shutil.rmtree(here)
        shutil.copytree(held, here)
        start = time.perf_counter()
        merge(quarters[-1])
        if run:
            times.append(time.perf_counter() - start)
    return show(f"dlt merge of quarter {len(quarters)} into its dataset holding {len(quarters) - 1}", times,
                peak_mib())


PIPELINE = """
import sys, tempfile
from datetime import datetime, timezone
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from bench.synthetic_map import synthetic_map_kml
from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.records import Snapshot
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.load import load_agency_snapshot
from ringwatch.warehouse.quality import merge_duplicates
data = synthetic_map_kml(int(sys.argv[1]))
agencies = parse_agency_map(data, source_url="bench")
del data
kept, _ = merge_duplicates(agencies)
del agencies
snapshot = Snapshot("agency_map", "2025Q1", datetime(2025, 4, 1, tzinfo=timezone.utc), tuple(kept))
del kept
con = connect(Path(tempfile.mkdtemp()) / "pipeline.duckdb")
load_agency_snapshot(con, snapshot, capture_id=1, origin="file", run_id=1)
con.close()
print([line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
"""


def pipeline_section(sizes: list[int]) -> None:
    print("\npeak memory of a whole pipeline (generate, parse, validate, load) in a fresh process")
    for size in sizes:
        out = subprocess.run([sys.executable, "-c", PIPELINE, str(size), str(ROOT)], check=True,
                             capture_output=True, text=True).stdout
        peak = int(out.strip().splitlines()[-1])  # last: DuckDB may draw a progress bar before it
        print(f"  {size:>9,} placemarks: {peak / 1024:,.0f} MiB peak RSS", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def e2e_section(timer: Timer, workdir: Path) -> None:
    print("\nend to end: ringwatch sync --from-file (2,700 placemarks) as a subprocess")
    kml = workdir / "map.kml"
    kml.write_bytes(synthetic_map_kml(2700))
    ringwatch = [sys.executable, "-m", "ringwatch.flows.cli", "sync", "--from-file", str(kml),
                 "--observed-at", "2025-04-01"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    base |= {"PYTHONPATH": str(ROOT), "PREFECT_HOME": str(workdir / "prefect-home")}
    counter = iter(range(10**6))

    def sync(env: dict[str, str]) -> None:
        env = {**env, "RINGWATCH_DB": str(workdir / f"e2e{next(counter)}.duckdb")}
        subprocess.run(ringwatch, cwd=ROOT, env=env, check=True, capture_output=True)

    bare_times, _, _ = timer.measure(lambda: subprocess.run(
        [sys.executable, "-c", "import duckdb, lxml.etree, requests"], env=base, check=True, capture_output=True))
    bare = show("floor: a bare Python importing duckdb, lxml, requests", bare_times)
    times, _, _ = timer.measure(lambda: sync(base))
    cold = show("cold, no Prefect API configured (in-process)", times, None,
                f"ratio to the floor {cold_ratio(times, bare):.1f}x (target 3x)")
    del cold
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--port", str(port)],
                              env=base, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        api = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 120
        import urllib.request
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        times, _, _ = timer.measure(lambda: sync({**base, "PREFECT_API_URL": api}))
        show("through a running Prefect server (PREFECT_API_URL)", times)
    finally:
        server.terminate()
        server.wait(timeout=30)


def profile_section(size: int, workdir: Path, top: int = 12) -> None:
    """Where the time goes, by cProfile: the parse, the load into a new warehouse, and a cold
    `ringwatch sync --from-file` in a subprocess. Printed by own time (the hot spots) and by
    cumulative time within ringwatch (which step holds them). cProfile's overhead inflates
    Python-heavy code against C (lxml, DuckDB): read it for where, not for how long."""
    import cProfile
    import pstats

    print(f"\nprofile: {size:,} placemarks (cProfile; its overhead inflates Python-heavy code)")
    data = synthetic_map_kml(size)

    def show_stats(title: str, stats: pstats.Stats) -> None:
        for order, where in (("tottime", None), ("cumulative", str(ROOT))):
            out = io.StringIO()
            stats.stream = out  # type: ignore[attr-defined]
            stats.sort_stats(order).print_stats(*([where] if where else []), top)
            lines = [line for line in out.getvalue().splitlines() if line.strip() and "function calls" not in line]
            print(f"  {title}, top {top} by {'own' if order == 'tottime' else 'cumulative, ringwatch only'} time:")
            for line in lines[lines.index(next(x for x in lines if x.lstrip().startswith("ncalls"))):]:
                print("    " + line.replace(str(ROOT) + "/", ""))

    profiler = cProfile.Profile()
    agencies = profiler.runcall(parse_agency_map, data, source_url="bench")
    show_stats("parse", pstats.Stats(profiler))
    kept, _ = merge_duplicates(agencies)
    snapshot = Snapshot(Source.AGENCY_MAP, Quarter(2025, 1), OBSERVED, tuple(kept))
    connect(workdir / "profile-warm.duckdb").close()  # the schema template, as on any machine after its first

    def load() -> None:
        con = connect(workdir / "profile-load.duckdb")
        load_agency_snapshot(con, snapshot, capture_id=1, origin="file", run_id=1)
        con.close()

    profiler = cProfile.Profile()
    profiler.runcall(load)
    show_stats("load into a new warehouse", pstats.Stats(profiler))
    kml, out = workdir / "profile.kml", workdir / "cold.prof"
    kml.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")} | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "ringwatch.flows.cli", "sync", "--from-file",
               str(kml), "--observed-at", "2025-04-01", "--db", str(workdir / "profile-cli.duckdb")]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    show_stats("cold `ringwatch sync --from-file` (imports included)", pstats.Stats(str(out)))


def cold_ratio(times: list[float], floor: float) -> float:
    return statistics.median(times) / floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure, after a warm-up (default 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2700, 27000, 270000])
    parser.add_argument("--skip-e2e", action="store_true", help="skip the subprocess end-to-end timings")
    sections = ["sizes", "floors", "pipeline", "identity", "history", "views", "e2e", "profile"]
    parser.add_argument("--only", choices=sections,
                        nargs="+", help="run only these sections")
    parser.add_argument("--profile", action="store_true",
                        help="also print where the time goes (cProfile) in the parse, the load and a cold CLI "
                             "sync, at the smallest --sizes")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ringwatch-bench-"))
    os.environ.setdefault(CACHE_DIR_VARIABLE, str(workdir / "cache"))  # its own schema template, made once
    timer = Timer(args.runs)
    print(f"ringwatch bench: median of {args.runs} runs after a warm-up (min-max), peak RSS of the step")
    try:
        wanted = set(args.only or ["sizes", "floors", "pipeline", "identity", "history", "views", "e2e"])
        if args.skip_e2e:
            wanted.discard("e2e")
        if args.profile:
            wanted.add("profile")
        if "sizes" in wanted:
            sizes_section(args.sizes, timer, workdir)
        if "floors" in wanted:
            floors_section(args.sizes, timer)
        if "pipeline" in wanted:
            pipeline_section(args.sizes)
        if "identity" in wanted:
            identity_section(args.sizes, timer, workdir)
        if "history" in wanted:
            history_section(timer, workdir)
        if "views" in wanted:
            views_section(timer, workdir)
        if "e2e" in wanted:
            e2e_section(timer, workdir)
        if "profile" in wanted:
            profile_section(min(args.sizes), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
