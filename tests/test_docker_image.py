"""The container image: built from the Dockerfile, it answers --version and runs an offline sync
into its /data volume as its non-root user. Skipped, saying why, where no Docker engine runs
(this project's CI machines have the client only)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "agency_map" / "active_agency_map_2024-01-15.kml"
IMAGE = "ringwatch:test"
pytestmark = pytest.mark.docker


def _engine() -> str | None:
    """None when an engine answers, else why not."""
    if shutil.which("docker") is None:
        return "no docker command here"
    try:
        answer = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                                text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "docker info did not answer in 20 s"
    if answer.returncode != 0:
        said = (answer.stderr or answer.stdout).strip().splitlines()
        return f"no Docker engine answers ({said[-1] if said else f'exit {answer.returncode}'})"
    return None


@pytest.fixture(scope="module")
def image() -> str:
    why = _engine()
    if why:
        pytest.skip(f"the image is not built here: {why}")
    subprocess.run(["docker", "build", "-t", IMAGE, str(ROOT)], check=True, timeout=900)
    return IMAGE


def test_the_image_says_its_version(image: str) -> None:
    done = subprocess.run(["docker", "run", "--rm", image, "ringwatch", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("ringwatch, version "), done


def test_an_offline_sync_fills_the_volume_as_a_non_root_user(image: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)  # the image's user (uid 10001) writes here
    done = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{data}:/data", "-v", f"{FIXTURE.parent}:/fixtures:ro", image,
         "ringwatch", "sync", "--from-file", f"/fixtures/{FIXTURE.name}", "--observed-at", "2024-01-15"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (data / "ringwatch.duckdb").stat().st_uid == 10001
    con = duckdb.connect(str(data / "ringwatch.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM agency_snapshots").fetchone() == (8,)
    finally:
        con.close()
