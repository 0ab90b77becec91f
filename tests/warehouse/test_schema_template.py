"""A new warehouse copied from the cached schema template is the warehouse the migrations build:
same tables, views, columns, comments, constraints and schema records; a missing, unwritable,
broken or stale cache costs time, never correctness; nothing that exists is ever overwritten."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ringwatch.warehouse import schema_template
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.schema_template import (
    CACHE_DIR_VARIABLE,
    _copy_without_overwriting,
    create_from_template,
    template_path,
)

CATALOG = {
    "tables": "SELECT table_name, comment, sql FROM duckdb_tables() ORDER BY table_name",
    "views": "SELECT view_name, comment, sql FROM duckdb_views() WHERE NOT internal ORDER BY view_name",
    "columns": "SELECT table_name, column_name, column_index, data_type, is_nullable, column_default, comment "
               "FROM duckdb_columns() WHERE NOT internal ORDER BY table_name, column_index",
    "constraints": "SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints() "
                   "ORDER BY ALL",
    "sequences": "SELECT sequence_name, start_value, last_value FROM duckdb_sequences() ORDER BY ALL",
    "indexes": "SELECT index_name, table_name, sql FROM duckdb_indexes() ORDER BY ALL",
    "migrations": "SELECT version, name, sha256 FROM schema_migrations ORDER BY version",
    "views_hash": "SELECT sha256 FROM schema_views",
}


Catalog = dict[str, list[tuple[Any, ...]]]


def catalog(path: Path) -> Catalog:
    con = connect(path, read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in CATALOG.items()}
    finally:
        con.close()


def new_warehouse(path: Path) -> Path:
    connect(path).close()
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(folder))
    return folder


def migrated_without_cache(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with monkeypatch.context() as patch:
        patch.setenv(CACHE_DIR_VARIABLE, "")
        return new_warehouse(path)


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template made once for the module the normal way (by the first new warehouse)."""
    folder = tmp_path_factory.mktemp("made-once")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_VARIABLE, str(folder / "cache"))
        new_warehouse(folder / "first.duckdb")
    return template_path(folder / "cache")


@pytest.fixture
def warm_cache(cache: Path, made_once: Path) -> Path:
    """The test's cache folder, holding the template as a first new warehouse would have left it."""
    cache.mkdir()
    shutil.copyfile(made_once, template_path(cache))
    return cache


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The catalog of a warehouse built from the migrations, no cache involved."""
    with pytest.MonkeyPatch.context() as patch:
        return catalog(migrated_without_cache(tmp_path_factory.mktemp("built") / "built.duckdb", patch))


def test_a_copy_of_the_template_is_the_warehouse_the_migrations_build(
        cache: Path, tmp_path: Path, migrated: Catalog) -> None:
    first = new_warehouse(tmp_path / "first.duckdb")  # makes the template
    assert template_path(cache).is_file()
    before_copy = datetime.now(UTC).replace(tzinfo=None)
    second = new_warehouse(tmp_path / "second.duckdb")  # copies it
    expected = migrated
    assert len(expected["columns"]) > 100 and sum(1 for c in expected["columns"] if c[-1]) > 100
    assert catalog(first) == expected
    assert catalog(second) == expected
    con = duckdb.connect(str(second), read_only=True)
    applied = con.execute("SELECT min(applied_at) FROM schema_migrations").fetchone()
    created = con.execute("SELECT created_at FROM schema_views").fetchone()
    con.close()
    assert applied is not None and created is not None
    assert applied[0] >= before_copy and created[0] >= before_copy, "the copy kept the template's dates"


def test_no_cache_writes_nothing_outside_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    new_warehouse(tmp_path / "db" / "w.duckdb")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["db", "w.duckdb"]


def test_the_default_cache_is_under_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_DIR_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    new_warehouse(tmp_path / "w.duckdb")
    assert [p.name for p in (tmp_path / "xdg" / "ringwatch").iterdir()] == [template_path(Path(".")).name]


def test_an_unwritable_cache_folder_still_gives_a_full_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated: Catalog) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(blocker / "cache"))
    assert catalog(new_warehouse(tmp_path / "w.duckdb")) == migrated
    assert blocker.read_text(encoding="utf-8") == "a file where the cache folder would go"


@pytest.mark.parametrize("damage", ["garbage bytes", "truncated", "another schema"])
def test_a_broken_or_foreign_template_is_replaced_and_never_becomes_the_warehouse(
        warm_cache: Path, tmp_path: Path, damage: str, migrated: Catalog) -> None:
    template = template_path(warm_cache)
    if damage == "garbage bytes":
        template.write_bytes(b"not a duckdb file" * 1000)
    elif damage == "truncated":
        template.write_bytes(template.read_bytes()[:4096])
    else:  # a database whose recorded migrations are not ours
        con = duckdb.connect(str(template))
        con.execute("UPDATE schema_migrations SET sha256 = 'edited' WHERE version = 1")
        con.close()
    target = tmp_path / "after.duckdb"
    assert catalog(new_warehouse(target)) == migrated
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*")), "a scratch copy was left behind"
    # The broken template was removed; the next new warehouse makes and copies a good one.
    assert catalog(new_warehouse(tmp_path / "next.duckdb")) == migrated


def test_an_existing_file_is_never_overwritten(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache
    taken = tmp_path / "taken.duckdb"
    taken.write_bytes(b"someone else's file")
    assert create_from_template(taken, lambda path: pytest.fail("no template should be built")) is False
    assert _copy_without_overwriting(template_path(cache), taken) is False  # the name taken after the check
    assert taken.read_bytes() == b"someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "taken.duckdb"]


def test_a_database_that_exists_is_opened_not_replaced(cache: Path, tmp_path: Path) -> None:
    path = new_warehouse(tmp_path / "w.duckdb")
    con = connect(path)
    con.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    con.close()
    con = connect(path)
    assert con.execute("SELECT answer FROM kept").fetchall() == [(42,)]
    con.close()


def test_new_warehouses_made_at_once_all_come_out_whole(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, migrated: Catalog) -> None:
    builds: list[Path] = []
    real_build = schema_template._build_template

    def counted(template: Path, build: Any) -> None:
        builds.append(template)
        real_build(template, build)

    monkeypatch.setattr(schema_template, "_build_template", counted)
    errors: list[BaseException] = []

    def make(n: int) -> None:
        try:
            new_warehouse(tmp_path / f"w{n}.duckdb")
        except BaseException as exc:  # noqa: BLE001  # reported below, with the rest
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert builds, "the cache was empty, so some thread built the template"
    for n in range(4):
        assert catalog(tmp_path / f"w{n}.duckdb") == migrated
    assert sorted(p.name for p in cache.iterdir()) == [template_path(cache).name]


def test_a_template_serves_only_the_migrations_it_was_made_from(
        warm_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another set of migrations (as another ringwatch version has) gets a template of its own,
    never this one, and this one never gets its: the key is taken from the files migrate() applies."""
    from ringwatch.warehouse import db
    from ringwatch.warehouse.sql import SqlFile, sql_files

    new_warehouse(tmp_path / "current.duckdb")

    def with_a_migration_9(folder: str) -> list[SqlFile]:
        extra = [SqlFile("009_test_only.sql", "CREATE TABLE test_only_table (x INTEGER);")]
        return sql_files(folder) + (extra if folder == "migrations" else [])

    with monkeypatch.context() as patch:
        patch.setattr(db, "sql_files", with_a_migration_9)
        new_warehouse(tmp_path / "other.duckdb")
    new_warehouse(tmp_path / "current-again.duckdb")
    other = catalog(tmp_path / "other.duckdb")
    again = catalog(tmp_path / "current-again.duckdb")
    assert [m[0] for m in other["migrations"]][-1] == 9
    assert any(t[0] == "test_only_table" for t in other["tables"])
    assert again == catalog(tmp_path / "current.duckdb")
    assert not any(t[0] == "test_only_table" for t in again["tables"])
    assert len(list(warm_cache.iterdir())) == 2
