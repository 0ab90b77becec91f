"""What a release must never carry: local paths and file URLs, as text or as a column.

A warehouse records where each load came from, and for a saved page or an Atlas export that
is a path on the machine that loaded it (`sync_runs.url`, `captures.url` as a file URL, an
error message naming a file). A release keeps a web address as it is and turns everything
local into the file's base name, which says which export or saved page it was and nothing of
the machine. Host names and process ids are left out by the relations themselves (the
columns are not selected).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

_WEB = re.compile(r"^https?://", re.IGNORECASE)
# file:/path, file:///path, file://host/path: up to white space or a quote.
_FILE_URL = re.compile(r"file:(?://[^/\s\"'<>]*)?(/[^\s\"'<>]*)", re.IGNORECASE)
# C:\dir\file
_WINDOWS_PATH = re.compile(r"(?<![\w/\\])[A-Za-z]:\\(?:[^\\\s\"'<>|]+\\)*[^\\\s\"'<>|]*")
# /dir/file or ~/dir/file: at least two segments, not inside a word, a relative path or a URL
# ("and/or", "a/b", "https://host/a/b" are left alone).
_POSIX_PATH = re.compile(r"(?<![\w.:/~\\-])~?/(?:[^/\s\"'<>(),;:|]+/)+[^/\s\"'<>(),;:|]*")
_START_OF_PATH = r"(?<![\w.:/~\\-])"
# What a value must hold before scrub_text has anything to do (a cheap test in SQL first).
MAY_HOLD_A_PATH = r"file:|[A-Za-z]:\\|/[^/\s]+/"


def base_name(path: str) -> str:
    """The last non-empty segment of a path, either separator."""
    parts = [p for p in re.split(r"[/\\]", path) if p]
    return parts[-1] if parts else ""


def _base_of_match(found: str) -> str:
    """A path's base name; dots that end a sentence stay after it."""
    stripped = found.rstrip(".")
    return base_name(stripped) + found[len(stripped):]


def scrub_text(text: str, known_roots: Iterable[str] = ()) -> str:
    """`text` with every file URL and absolute local path replaced by the file's base name.

    `known_roots` (the home folder, the database's folder, ...) are replaced by `~` first, so a
    root with a space in it cannot leave half a path behind.
    """
    for root in sorted({r.rstrip("/\\") for r in known_roots if len(r.rstrip("/\\")) > 1}, key=len, reverse=True):
        # Only where a path starts: the same letters inside a web address stay.
        text = re.sub(_START_OF_PATH + re.escape(root) + r"(?=[/\\])", "~", text)
    text = _FILE_URL.sub(lambda m: _base_of_match(unquote(m.group(1))), text)
    text = _WINDOWS_PATH.sub(lambda m: _base_of_match(m.group(0)), text)
    return _POSIX_PATH.sub(lambda m: _base_of_match(m.group(0)), text)


# A data: URI (an image inlined in HTML): base64 holds slashes that are no path, so it is kept whole.
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*")


def scrub_html(html: str, known_roots: Iterable[str] = ()) -> str:
    """scrub_text for a page that may inline images: every part but the data: URIs is scrubbed."""
    parts, at = [], 0
    for match in _DATA_URI.finditer(html):
        parts += [scrub_text(html[at:match.start()], known_roots), match.group(0)]
        at = match.end()
    parts.append(scrub_text(html[at:], known_roots))
    return "".join(parts)


def web_url(url: str | None) -> str | None:
    """An http(s) address as it is; anything else (a file URL, a path) is not published."""
    return url if url and _WEB.match(url) else None


def file_name(url: str | None) -> str | None:
    """The base name of a file URL or a path; None for a web address or nothing."""
    if not url or _WEB.match(url):
        return None
    if url.lower().startswith("file:"):
        url = unquote(urlsplit(url).path)
    return base_name(url) or None
