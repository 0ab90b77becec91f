"""Benchmark: parse, validate and load synthetic agency maps of 2,700 and 270,000 placemarks.

For each size, in a fresh child process: the median (min-max) of several runs of each step
after a warm-up, the peak memory Python allocated in one run of the step (tracemalloc;
lxml's and DuckDB's own C allocations are not counted), and the child's peak resident
memory (ru_maxrss, which counts everything). Run: python bench/bench_agency_map.py
Targets (issue 2): 2,700 agencies parsed, validated and loaded in under 0.5 s without the
Prefect server start; 100x the input at most 120x the time.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synthetic_map import synthetic_map_kml  # noqa: E402
from ringwatch.scrapers.agency_map import parse_agency_map  # noqa: E402
from ringwatch.scrapers.quarter import Quarter  # noqa: E402
from ringwatch.scrapers.sources import Source  # noqa: E402
from ringwatch.warehouse.db import connect  # noqa: E402
from ringwatch.warehouse.load import load_agency_snapshot  # noqa: E402
from ringwatch.warehouse.quality import GatePolicy, validate_agency_snapshot  # noqa: E402

OBSERVED = datetime(2025, 4, 1, 6, tzinfo=UTC)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def traced_peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def measure(size: int, runs: int) -> dict[str, Any]:
    """Time each step on one synthetic map; runs in its own process."""
    data = synthetic_map_kml(size)
    tmp = Path(tempfile.mkdtemp())
    files = count()

    def parse() -> Any:
        return parse_agency_map(data, source_url="bench")

    parse_times, agencies = timed(parse, runs)

    def validate() -> Any:
        return validate_agency_snapshot(
            agencies, source=Source.AGENCY_MAP, url="bench", quarter=Quarter(2025, 1), observed_at=OBSERVED,
            previous_count=size, previous_quarter=Quarter(2024, 4), policy=GatePolicy())

    validate_times, snapshot = timed(validate, runs)

    def load() -> None:
        con = connect(tmp / f"bench{next(files)}.duckdb")
        load_agency_snapshot(con, snapshot, capture_id=1, origin="file", run_id=1)
        con.close()

    load_times, _ = timed(load, runs)
    steps = {"parse": (parse_times, parse), "validate": (validate_times, validate), "load": (load_times, load)}
    return {
        "size": size,
        "input_mib": len(data) / 2**20,
        "steps": {name: {"times": times, "traced_mib": traced_peak_mib(fn)} for name, (times, fn) in steps.items()},
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def show(result: dict[str, Any]) -> float:
    total = 0.0
    for name, step in result["steps"].items():
        times = step["times"]
        median = statistics.median(times)
        total += median
        print(f"{result['size']:>10,}  {name:8}  {median * 1000:10.1f} ms ({min(times) * 1000:.1f}-"
              f"{max(times) * 1000:.1f})  {step['traced_mib']:8.1f}")
    print(f"{result['size']:>10,}  {'total':8}  {total * 1000:10.1f} ms (sum of medians); input "
          f"{result['input_mib']:.1f} MiB; peak RSS {result['max_rss_mib']:.0f} MiB")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per step (default 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2700, 270000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.runs)))
        return
    print(f"{'placemarks':>10}  {'step':8}  {'median (min-max)':>28}  traced MiB")
    totals: dict[int, float] = {}
    for size in args.sizes:
        runs = args.runs if size <= 30_000 else max(3, args.runs // 2)
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--runs", str(runs)],
                             check=True, capture_output=True, text=True).stdout
        totals[size] = show(json.loads(out))
    if len(totals) >= 2:
        small, large = min(totals), max(totals)
        print(f"scaling: {large // small}x the input took {totals[large] / totals[small]:.0f}x the time")


if __name__ == "__main__":
    main()
