"""Where `export` and `report` may write, and how they write there.

Both commands take a path from the user and write there, so one slip (`--out .` beside the
database, tab completion landing on `ringwatch.duckdb`) must cost nothing. A warehouse owns
a few paths on disk; no output may be one of them, lie inside one, or hold one. Beyond that,
a folder is written only when it is new, empty, or holds ringwatch's own earlier output, and
then only the files ringwatch wrote there are replaced, each atomically; whatever else is in
the folder is left alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ringwatch.scrapers.errors import OutputRefused
from ringwatch.warehouse.captures import blob_dir_for
from ringwatch.warehouse.lock import lock_path_for

# `.<name>.ringwatch-partial-<pid>-<hex>`: a write in progress, or the leftover of one killed
# with SIGKILL. Leftovers are not counted as the user's files when a folder is judged.
_PARTIAL = re.compile(r"^\..+\.ringwatch-partial-\d+-[0-9a-f]{8}$")


def warehouse_paths(db_path: str | Path) -> list[tuple[str, Path]]:
    """Every path a warehouse keeps on disk, with the words that name it in a message."""
    db = Path(db_path)
    return [
        ("the database", db),
        ("the database's write-ahead log", Path(f"{db}.wal")),
        ("the database's lock file", lock_path_for(db)),
        ("the database's captures folder", blob_dir_for(db)),
        ("the database's temporary folder", Path(f"{db}.tmp")),
    ]


def _forms(path: Path) -> set[Path]:
    """The path as written (made absolute) and with symlinks resolved: either may be what is meant."""
    forms = {Path(os.path.abspath(path))}
    with contextlib.suppress(OSError, RuntimeError):  # a symlink loop: the absolute form is all there is
        forms.add(path.resolve())
    return forms


def refuse_warehouse_paths(target: Path, db_path: str | Path, *, writing: str, option: str) -> None:
    """Refuse a target that is, lies inside, or holds the database, its log, lock or captures."""
    relations: dict[str, list[tuple[str, Path]]] = {"is": [], "is inside": [], "holds": []}
    targets = _forms(target)
    for label, owned in warehouse_paths(db_path):
        owned_forms = _forms(owned)
        if targets & owned_forms:
            relations["is"].append((label, owned))
        elif any(t.is_relative_to(o) for t in targets for o in owned_forms):
            relations["is inside"].append((label, owned))
        elif any(o.is_relative_to(t) for t in targets for o in owned_forms):
            relations["holds"].append((label, owned))
    found = [f"{relation} {_named(hits)}" for relation, hits in relations.items() if hits]
    if found:
        raise OutputRefused(
            f"will not write {writing} to {os.path.abspath(target)}: it {'; it '.join(found)}. Nothing was "
            f"written; choose another {option}."
        )


def _named(hits: list[tuple[str, Path]]) -> str:
    """Name what is there (a log or temporary folder that does not exist is noise), or all if none is."""
    there = [h for h in hits if os.path.lexists(h[1])] or hits
    return join_names([f"{label} {os.path.abspath(path)}" for label, path in there])


def join_names(names: Sequence[str], *, limit: int | None = None) -> str:
    """'a', 'a and b', 'a, b and c'; past `limit`, 'a, b, c and 4 more'."""
    shown = list(names)
    if limit is not None and len(shown) > limit:
        return ", ".join(shown[:limit]) + f" and {len(shown) - limit} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _entry_names(folder: Path, names: Iterable[str]) -> list[str]:
    return [f"{n}/" if (folder / n).is_dir() and not (folder / n).is_symlink() else n for n in sorted(names)]


def is_replaceable_file(path: Path) -> bool:
    """A file (or a symlink, which os.replace swaps for the new file); never a folder."""
    return path.is_symlink() or path.is_file()


@dataclass(frozen=True, slots=True)
class FolderPlan:
    """What may be written in a folder: decided before anything is written."""

    folder: Path
    create: bool  # the folder does not exist yet
    present: frozenset[str]  # names in the folder now, leftovers of killed writes aside
    ours: frozenset[str]  # names ringwatch wrote there earlier, which it may replace or remove
    writing: str
    option: str
    why_ours: str  # how `ours` was told, for a refusal: "its manifest.json does not list it"

    def check_targets(self, names: Iterable[str]) -> None:
        """Refuse before writing when a file to write is there and ringwatch did not write it."""
        blocked = sorted(n for n in names if n in self.present and n not in self.ours)
        if blocked:
            shown, one = join_names(_entry_names(self.folder, blocked), limit=4), len(blocked) == 1
            raise OutputRefused(
                f"will not write {self.writing} into {self.folder}: {shown} {'is' if one else 'are'} in the way "
                f"and ringwatch did not write {'it' if one else 'them'} ({self.why_ours}). Nothing was written; "
                f"move {'it' if one else 'them'} away or choose another {self.option}."
            )

    def stale(self, names: Iterable[str]) -> list[str]:
        """Files of the earlier output that this one no longer writes."""
        return sorted(self.ours - set(names))


def plan_folder(
    folder: Path,
    *,
    earlier_output: Callable[[Path, frozenset[str]], frozenset[str] | None],
    writing: str,
    option: str,
    sign: str,
    holding: str,
    why_ours: str,
) -> FolderPlan:
    """Decide whether `folder` may be written: new, empty, or holding ringwatch's earlier output.

    `earlier_output(folder, names)` returns the names ringwatch wrote there before, or None
    when the folder holds no earlier output of this kind.
    """
    folder = Path(os.path.abspath(folder))
    if not folder.exists():
        if folder.is_symlink():
            raise OutputRefused(f"will not write {writing} into {folder}: it is a symlink to a folder that does "
                                f"not exist. Nothing was written; choose another {option}.")
        return FolderPlan(folder, True, frozenset(), frozenset(), writing, option, why_ours)
    if not folder.is_dir():
        raise OutputRefused(f"will not write {writing} into {folder}: it is a file, not a folder. Nothing was "
                            f"written; choose another {option}.")
    try:
        present = frozenset(n for n in os.listdir(folder) if not _PARTIAL.match(n))
    except OSError as exc:
        raise OutputRefused(f"cannot read the folder {folder}: {exc.strerror or exc}; choose another "
                            f"{option}.") from exc
    if not present:
        return FolderPlan(folder, False, present, frozenset(), writing, option, why_ours)
    ours = earlier_output(folder, present)
    if ours is None:
        raise OutputRefused(
            f"will not write {writing} into {folder}: it holds {join_names(_entry_names(folder, present), limit=4)} "
            f"and no {sign}. Nothing was written; choose another {option}: a new or empty folder, or one holding "
            f"{holding}."
        )
    return FolderPlan(folder, False, present, ours, writing, option, why_ours)


def partial_path(path: Path) -> Path:
    """A hidden name beside `path` for writing it, so os.replace can put it in place at once."""
    return path.with_name(f".{path.name}.ringwatch-partial-{os.getpid()}-{secrets.token_hex(4)}")


def write_atomically(path: Path, content: bytes) -> Path:
    """Write beside `path`, then rename over it: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = partial_path(path)
    try:
        with open(temporary, "xb") as stream:  # created 0666 less the umask, like any file the user writes
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path

