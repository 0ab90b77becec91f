"""Where a release goes: TARGET/<release id>/, written once, and TARGET/latest.json beside it.

TARGET is a local folder or an fsspec URL (`s3://bucket/prefix` with the `ringwatch[s3]` extra).
On S3 the credentials, region and endpoint come from the standard AWS variables and files
(`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` for an
S3-compatible server, or `AWS_PROFILE`), read by botocore itself; ringwatch has no option of its own.

A release is never overwritten and nothing already in TARGET is ever deleted:
- TARGET/<id> already there (whole or a leftover) is refused before anything is written;
- TARGET must be new, empty, or hold ringwatch's earlier releases (like `export`'s folder rule);
  a latest.json there that ringwatch did not write is refused;
- a local release is copied into a hidden folder beside its place and renamed into place whole,
  with its `_complete` marker inside; on an object store (no rename) the files are written, then
  `_complete` last, and a release without its marker is not listed. A failed upload removes only
  the objects it wrote itself;
- latest.json ({"release": id, "published_at": ...}) is replaced last, and only moves forward: a
  release of an older quarter than the one it names is published but does not become `latest`.
A local TARGET also follows warehouse/output_guard.py: never the database, its log, lock or
captures folder, nor a folder inside or holding one of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec  # type: ignore[import-untyped]
from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-untyped]

from ringwatch.scrapers.errors import OutputRefused, WarehouseError
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.output_guard import join_names, partial_path, refuse_warehouse_paths, write_atomically

LATEST = "latest.json"
COMPLETE = "_complete"  # written last into a release: a release folder without it is not one
GENERATOR = "ringwatch publish"  # in latest.json and _complete: how a later publish knows them
_OPTION = "--out"
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])-")
_PARTIAL = re.compile(r"^\..+\.ringwatch-partial-\d+-[0-9a-f]{8}$")  # output_guard's hidden names
_POINTER_LIMIT = 1024 * 1024  # latest.json and _complete are a few hundred bytes to a few KiB


@dataclass(frozen=True, slots=True)
class Published:
    """One release written: its id, the TARGET it went to, where it is, how many files it holds."""

    release_id: str
    target: str  # as given
    location: str  # the release's own folder or URL: TARGET/<release id>
    files: int  # files of the staged release copied there (the `_complete` marker not counted)
    latest: bool  # latest.json now names this release


class ReleaseExists(OutputRefused):
    """TARGET/<release id> is already there: the release is never written over."""

    def __init__(self, message: str, release_id: str, complete: bool) -> None:
        super().__init__(message)
        self.release_id = release_id
        self.complete = complete  # a whole earlier release, not the leftover of an interrupted one


def upload_release(staging: Path, target: str, release_id: str, *, db_path: str | Path | None = None) -> Published:
    """Write the staged folder to TARGET/<release_id>/, then point TARGET/latest.json at it.

    `db_path`, when given, is the warehouse the release was made from: a local TARGET may not be,
    lie inside, or hold any of its paths.
    """
    if not _RELEASE_ID.match(release_id):
        raise WarehouseError(f"cannot publish a release named {release_id!r}: a release id is one plain name "
                             f"of letters, digits, '.', '_' and '-'.")
    staging = Path(staging)
    files = _staged_files(staging)
    fs, root = _open(target)
    local = isinstance(fs, LocalFileSystem)
    if local and db_path is not None:
        refuse_warehouse_paths(Path(root), db_path, writing="the release", option=_OPTION)
    place = _join(root, release_id)
    shown = _shown(fs, root)
    with _storage(f"cannot write the release to {shown}", f"check the target and publish again, or choose "
                  f"another {_OPTION}"):
        _forget_listings(fs, root)  # another process may have published since this one looked
        pointer = _judge_target(fs, root, shown)
        _refuse_existing(fs, place, release_id, _shown(fs, place))
        published_at = utcnow().isoformat(timespec="microseconds") + "Z"
        marker = _marker(release_id, published_at, staging, files)
        if local:
            _write_local(Path(root), release_id, staging, files, marker)
        else:
            _write_remote(fs, place, staging, files, marker)
        moves = _moves_forward(pointer, release_id)
        if moves:
            _write_pointer(fs, root, local, {"generator": GENERATOR, "release": release_id,
                                             "published_at": published_at})
    return Published(release_id, target, _shown(fs, place), len(files), moves)


def list_releases(target: str) -> list[str]:
    """The whole releases in TARGET, oldest first (by quarter, then by when each was published)."""
    fs, root = _open(target)
    found: list[tuple[tuple[int, int], str, str]] = []
    with _storage(f"cannot list the releases in {_shown(fs, root)}", "check the target"):
        _forget_listings(fs, root)
        for name in _entries(fs, root):
            marker = _read_json(fs, _join(_join(root, name), COMPLETE))
            if marker is not None and marker.get("generator") == GENERATOR and marker.get("release") == name:
                found.append((_quarter(name), str(marker.get("published_at", "")), name))
    return [name for _, _, name in sorted(found)]


def latest_release(target: str) -> str | None:
    """The release TARGET/latest.json names, or None when there is none (or it is not ringwatch's)."""
    fs, root = _open(target)
    with _storage(f"cannot read {_shown(fs, _join(root, LATEST))}", "check the target"):
        _forget_listings(fs, root)
        pointer = _read_json(fs, _join(root, LATEST))
    if pointer is None or not _is_our_pointer(pointer):
        return None
    return str(pointer["release"])


@contextlib.contextmanager
def _storage(failed: str, advice: str) -> Iterator[None]:
    """A storage failure (a local OSError, or S3's: no bucket, no credentials, no answer) as one line."""
    try:
        yield
    except (OutputRefused, WarehouseError):
        raise
    except Exception as exc:
        # botocore's own errors (no credentials, endpoint unreachable) are not OSErrors; s3fs turns the
        # service's answers (no such bucket, access denied) into OSErrors.
        from_botocore = any(k.__module__.split(".")[0] in ("botocore", "aiobotocore") for k in type(exc).__mro__)
        if not (isinstance(exc, OSError) or from_botocore):
            raise
        why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        hint = (" (S3 reads its credentials and endpoint from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or "
                "AWS_PROFILE, and AWS_ENDPOINT_URL)") if from_botocore else ""
        raise WarehouseError(f"{failed}: {why}{hint}; {advice}.") from exc


def _forget_listings(fs: Any, root: str) -> None:
    """fsspec keeps what it listed; what another process wrote since must be seen."""
    with contextlib.suppress(AttributeError):
        fs.invalidate_cache(root)


# --- the target ----------------------------------------------------------------------------------

def _open(target: str) -> tuple[Any, str]:
    try:
        fs, root = fsspec.core.url_to_fs(target)
    except (ImportError, ValueError) as exc:  # s3:// without s3fs: "Install s3fs to access S3"
        raise WarehouseError(f"cannot publish to {target}: {exc}. For s3:// install ringwatch[s3].") from exc
    root = str(root)
    if isinstance(fs, LocalFileSystem):
        root = os.path.abspath(root)
    elif root.rstrip("/"):
        root = root.rstrip("/")
    return fs, root


def _join(root: str, name: str) -> str:
    return posixpath.join(root, name)


def _shown(fs: Any, path: str) -> str:
    """A path as the user knows it: a local path, or the URL with its protocol."""
    if isinstance(fs, LocalFileSystem):
        return path
    return str(fs.unstrip_protocol(path))


def _entries(fs: Any, root: str) -> list[str]:
    """The names directly in `root`, leftovers of killed local writes aside; none when it is not there."""
    try:
        listed = fs.ls(root, detail=False)
    except FileNotFoundError:
        return []
    names = []
    for item in listed:
        name = posixpath.basename(str(item).rstrip("/"))
        if name and not _PARTIAL.match(name) and str(item).rstrip("/") != root:
            names.append(name)
    return sorted(set(names))


def _judge_target(fs: Any, root: str, shown: str) -> dict[str, Any] | None:
    """Refuse a TARGET that is a file, or holds something other than ringwatch's releases.

    Returns what latest.json holds now (None when there is none).
    """
    if fs.isfile(root):
        raise OutputRefused(f"will not write the release into {shown}: it is a file, not a folder. Nothing was "
                            f"written; choose another {_OPTION}.")
    names = _entries(fs, root)
    pointer = None
    if LATEST in names:
        pointer = _read_json(fs, _join(root, LATEST))
        if pointer is None or not _is_our_pointer(pointer):
            raise OutputRefused(f"will not write the release into {shown}: its {LATEST} is in the way and "
                                f"ringwatch did not write it. Nothing was written; move it away or choose another "
                                f"{_OPTION}.")
        return pointer
    if not names or any(_is_release(fs, root, name) for name in names):
        return None
    raise OutputRefused(f"will not write the release into {shown}: it holds {join_names(names, limit=4)} and no "
                        f"release of ringwatch publish. Nothing was written; choose another {_OPTION}: a new or "
                        f"empty folder, or one holding earlier releases.")


def _is_release(fs: Any, root: str, name: str) -> bool:
    marker = _read_json(fs, _join(_join(root, name), COMPLETE))
    return marker is not None and marker.get("generator") == GENERATOR and marker.get("release") == name


def _refuse_existing(fs: Any, place: str, release_id: str, shown: str) -> None:
    if not (fs.exists(place) or (isinstance(fs, LocalFileSystem) and os.path.lexists(place))):
        return
    marker = _read_json(fs, _join(place, COMPLETE))
    if marker is not None and marker.get("generator") == GENERATOR and marker.get("release") == release_id:
        raise ReleaseExists(f"release {release_id} is already published at {shown}, and a release is never "
                            f"written over. Nothing was written: its id comes from its data, so that data is "
                            f"already there.", release_id, complete=True)
    raise ReleaseExists(f"will not write release {release_id}: {shown} is already there but is not a whole "
                        f"release (no {COMPLETE} marker: an interrupted upload, or not ringwatch's). Nothing was "
                        f"written; look at it, remove it if it is a leftover, and publish again.",
                        release_id, complete=False)


def _read_json(fs: Any, path: str) -> dict[str, Any] | None:
    """A small JSON object file, or None when it is missing, too big, or not a JSON object."""
    try:
        if not fs.isfile(path) or int(fs.size(path) or 0) > _POINTER_LIMIT:
            return None
        data = json.loads(fs.cat_file(path))
    except FileNotFoundError:
        return None
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _is_our_pointer(pointer: dict[str, Any]) -> bool:
    release = pointer.get("release")
    return (pointer.get("generator") == GENERATOR and isinstance(release, str)
            and _RELEASE_ID.match(release) is not None)


def _quarter(release_id: str) -> tuple[int, int]:
    """(year, quarter) from an id like 2025Q3-3f9a1c2b; (0, 0) for an id that names none."""
    match = _QUARTER.match(release_id)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _moves_forward(pointer: dict[str, Any] | None, release_id: str) -> bool:
    """latest.json moves to the new release unless it names a release of a later quarter."""
    if pointer is None:
        return True
    current = _quarter(str(pointer["release"]))
    new = _quarter(release_id)
    return current == (0, 0) or new == (0, 0) or new >= current


# --- the files -----------------------------------------------------------------------------------

def _staged_files(staging: Path) -> list[str]:
    """Every file of the staged release as a relative POSIX path, in name order."""
    if not staging.is_dir():
        raise WarehouseError(f"cannot publish {staging}: it is not a folder of a staged release.")
    files = []
    for path in sorted(staging.rglob("*")):
        relative = path.relative_to(staging).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise WarehouseError(f"cannot publish {relative}: a staged release holds plain files and folders only.")
        if path.is_file():
            if relative == COMPLETE:
                raise WarehouseError(f"cannot publish a staged release holding its own {COMPLETE}: ringwatch "
                                     f"writes that marker itself.")
            files.append(relative)
    if not files:
        raise WarehouseError(f"cannot publish {staging}: the staged release holds no files.")
    return files


def _marker(release_id: str, published_at: str, staging: Path, files: list[str]) -> bytes:
    """_complete: the release's id, when it was published, and each file's size and sha256."""
    entries = [{"path": name, "bytes": (staging / name).stat().st_size, "sha256": _sha256(staging / name)}
               for name in files]
    content = {"generator": GENERATOR, "release": release_id, "published_at": published_at, "files": entries}
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_local(root: Path, release_id: str, staging: Path, files: list[str], marker: bytes) -> None:
    """Copy into a hidden folder beside the release's place, then rename it into place whole."""
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    place = root / release_id
    hidden = partial_path(place)
    try:
        hidden.mkdir()
        for name in files:
            destination = hidden / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staging / name, destination)
        (hidden / COMPLETE).write_bytes(marker)
        if os.path.lexists(place):  # arrived since it was checked: still never written over
            raise ReleaseExists(f"will not write release {release_id}: {place} appeared while it was being "
                                f"written. Nothing was written; publish again.", release_id, complete=False)
        os.rename(hidden, place)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)  # the hidden copy this call made, nothing else
        if created:
            with contextlib.suppress(OSError):
                root.rmdir()
        raise


def _write_remote(fs: Any, place: str, staging: Path, files: list[str], marker: bytes) -> None:
    """Upload every file, then _complete last; on failure remove only the objects this call wrote."""
    written: list[str] = []
    try:
        for name in files:
            remote = _join(place, name)
            fs.put_file(str(staging / name), remote)
            written.append(remote)
        remote = _join(place, COMPLETE)
        fs.pipe_file(remote, marker)
        written.append(remote)
    except BaseException:
        for remote in reversed(written):
            with contextlib.suppress(Exception):
                fs.rm_file(remote)
        raise


def _write_pointer(fs: Any, root: str, local: bool, pointer: dict[str, str]) -> None:
    content = (json.dumps(pointer, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if local:
        write_atomically(Path(root) / LATEST, content)  # readers see the old pointer or the new one
    else:
        fs.pipe_file(_join(root, LATEST), content)  # one PUT: an object is replaced whole
