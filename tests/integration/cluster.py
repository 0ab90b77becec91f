"""The servers of a ringwatch service, started for real on this machine: PostgreSQL from the
machine's own binaries, a Prefect server on that database, process workers, and (where the test
may create them) a network namespace for a worker that reaches the others over its own link.

Each starter returns something to stop; every process is started in a session of its own so
that killing it takes its children too, as a dying container would.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # Debian links a few of them into /usr/local/bin
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the machine's postgres user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def can_run_postgres() -> str | None:
    """Why PostgreSQL cannot be started here, or None."""
    if postgres_bin() is None:
        return "no PostgreSQL binaries (initdb, pg_ctl) on this machine"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root with no postgres user to run PostgreSQL as"
    return None


@dataclass
class Postgres:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return database_url(self.port)


def database_url(port: int) -> str:
    """Prefect's connection URL for the cluster `postgres(port)` starts."""
    return f"postgresql+asyncpg://prefect@127.0.0.1:{port}/prefect"


@contextmanager
def postgres(port: int | None = None) -> Iterator[Postgres]:
    """A throwaway cluster on 127.0.0.1 and `port` (or a free one): no fsync (nothing here must
    survive a power cut), trust authentication, one database named prefect. Its folder is a new
    one in the system's temporary folder (the postgres user cannot enter pytest's), removed at
    the end: it is this function's own."""
    bin_dir = postgres_bin()
    assert bin_dir is not None
    base = Path(tempfile.mkdtemp(prefix="rw-it-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data, port = base / "data", port or free_port()
    subprocess.run(_as_postgres_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "prefect", "--auth=trust",
                                      "-N", "-E", "UTF8"]), check=True, capture_output=True)
    options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=200")
    subprocess.run(_as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                      "-l", str(base / "postgres.log"), "-w", "start"]),
                   check=True, capture_output=True)
    try:
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "prefect", "prefect"],
                       check=True, capture_output=True)
        yield Postgres(data, port)
    finally:
        subprocess.run(_as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Process:
    """A started command, its output in a file (read it when something fails)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: the command and everything it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)



def stop_all(processes: list[Process], *, grace: float = 1.0) -> None:
    """SIGTERM every process group at once, then SIGKILL what is left after `grace` seconds:
    these are throwaway servers and workers, and waiting on each in turn cost the test seconds."""
    for process in processes:
        if process.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def start(name: str, command: list[str], *, env: dict[str, str], log: Path, cwd: Path | None = None) -> Process:
    handle = log.open("wb")
    popen = subprocess.Popen(command, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT,
                             start_new_session=True)
    handle.close()
    return Process(name, popen, log)


def prefect_server(*, host: str, port: int, database_url: str, home: Path, env: dict[str, str],
                   log: Path, database_ready: Path) -> Process:
    """`prefect server start` on PostgreSQL once `database_ready` exists (it imports meanwhile).
    The repossessor looks for lapsed leases every second (its default is 15 s); a run queued
    behind its deployment's limit is retried after 1 s (default 30 s), and one waiting for a
    global slot is told to ask again within 0.5 s."""
    server_env = {**env, "PREFECT_HOME": str(home), "PREFECT_API_DATABASE_CONNECTION_URL": database_url,
                  "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
                  "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "1",
                  "PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS": "0.5",
                  "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "1",
                  # ringwatch uses no blocks: registering every block type costs a second at start.
                  "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
                  "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false"}
    server_env.pop("PREFECT_API_URL", None)
    return start("prefect server", [PYTHON, "-c", LAUNCHER, "prefect.server.api.server", str(database_ready),
                                    "server", "start", "--host", host, "--port", str(port)], env=server_env, log=log)


def wait_healthy(api: str, server: Process, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.popen.poll() is not None:
            raise AssertionError(f"the Prefect server exited:\n{server.output()[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{api}/health", timeout=1) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"the Prefect server did not answer within {timeout} s:\n{server.output()[-3000:]}")


# A prefect command, once its imports are done and what it needs is ready. A worker started
# before its server is up backs off its polling for tens of seconds, and one started after spends
# seconds importing; a server needs its database. Each imports meanwhile, then starts the moment
# `ready` holds: an http:// URL answers, or a file exists.
LAUNCHER = """
import importlib, os, sys, time, urllib.request
preload, ready, *args = sys.argv[1:]
for name in preload.split(","):
    importlib.import_module(name)
deadline = time.monotonic() + 120
while True:
    try:
        if ready.startswith("http"):
            urllib.request.urlopen(ready, timeout=1).close()
            break
        if os.path.exists(ready):
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("never ready: " + ready)
    time.sleep(0.05)
sys.argv = ["prefect", *args]
from prefect.cli import app
app()
"""


def worker(name: str, *, pool: str, api: str, env: dict[str, str], home: Path, log: Path,
           netns: str | None = None) -> Process:
    """A process worker polling twice a second, started now even if `api` does not answer yet;
    in `netns` when given."""
    worker_env = {**env, "PREFECT_HOME": str(home), "PREFECT_WORKER_QUERY_SECONDS": "0.5",
                  "PREFECT_WORKER_PREFETCH_SECONDS": "5"}
    command = [PYTHON, "-c", LAUNCHER, "prefect.cli.worker,prefect.workers.process", f"{api}/health",
               "worker", "start", "--pool", pool, "--type", "process", "--name", name]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    return start(f"worker {name}", command, env=worker_env, log=log)


# --- a network namespace for one worker ---------------------------------------------------------

@dataclass
class Namespace:
    name: str
    host_ip: str  # this side of the link: the servers listen here
    inner_ip: str  # the worker's side


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


@contextmanager
def namespace() -> Iterator[Namespace | str]:
    """A network namespace joined to this host by one veth pair (10.213.<n>.1 here, .2 there),
    or the reason there cannot be one (not root, no iproute2, not permitted)."""
    if os.geteuid() != 0:
        yield "network namespaces need root (ip netns add); this run is not root"
        return
    if shutil.which("ip") is None:
        yield "no ip command (iproute2) to create a network namespace with"
        return
    n = os.getpid() % 200 + 20
    name, outside, inside = f"rw-it-{os.getpid()}", f"rwh{os.getpid()}"[:15], f"rwn{os.getpid()}"[:15]
    host_ip, inner_ip = f"10.213.{n}.1", f"10.213.{n}.2"
    made = _ip("netns", "add", name)
    if made.returncode != 0:
        yield f"ip netns add failed here: {made.stderr.strip()}"
        return
    try:
        steps = [("link", "add", outside, "type", "veth", "peer", "name", inside),
                 ("link", "set", inside, "netns", name),
                 ("addr", "add", f"{host_ip}/30", "dev", outside),
                 ("link", "set", outside, "up"),
                 ("-n", name, "addr", "add", f"{inner_ip}/30", "dev", inside),
                 ("-n", name, "link", "set", inside, "up"),
                 ("-n", name, "link", "set", "lo", "up")]
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                yield f"could not link the namespace ({' '.join(step)}): {done.stderr.strip()}"
                return
        yield Namespace(name, host_ip, inner_ip)
    finally:
        _ip("link", "del", outside)
        _ip("netns", "del", name)
