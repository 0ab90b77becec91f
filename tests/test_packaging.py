"""What `pip install .` ships: every package folder and every data file, under ringwatch.*.

.ci/run also builds the wheel, installs it into a fresh venv and runs it; this test is the
fast half, failing as soon as a new subpackage or data file is left out of pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("flows", "scrapers", "warehouse", "config")


def setuptools_table() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def installed_name(folder: Path) -> str:
    return "ringwatch." + ".".join(folder.relative_to(ROOT).parts)


def test_every_package_folder_is_installed_under_ringwatch() -> None:
    on_disk = {installed_name(p.parent) for top in FOLDERS for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk == set(setuptools_table()["packages"])
    assert setuptools_table()["package-dir"] == {f"ringwatch.{top}": top for top in FOLDERS}


def test_every_data_file_is_package_data() -> None:
    data = setuptools_table()["package-data"]
    missing = []
    for top in FOLDERS:
        for path in (ROOT / top).rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            # The deepest package holding the file, and the file's path inside it.
            package = path.parent
            while not (package / "__init__.py").exists():
                package = package.parent
            # setuptools globs package data from the package folder ('*' stays in one folder).
            if not any(path in set(package.glob(pattern)) for pattern in data.get(installed_name(package), [])):
                missing.append(path.relative_to(ROOT).as_posix())
    assert missing == []


def test_the_console_script_points_into_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["ringwatch"] == "ringwatch.flows.cli:cli"
