"""HTML into a BeautifulSoup tree whose nesting is bounded while it is built.

A page nested a hundred thousand elements deep costs BeautifulSoup seconds and tens of
megabytes to build, then defeats any walk over it that recurses (a library's, in some
version), and makes every reading of a block's text grow with the depth. Real pages nest a
few dozen deep; a page that nests deeper than `MAX_HTML_DEPTH` (libxml2's own limit for XML,
which the KML reader meets) is refused as soon as the parser reaches that depth, before the
rest of it is read, with a ParseError naming the URL.
"""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from bs4.builder._lxml import LXMLTreeBuilder

from ringwatch.scrapers.errors import ParseError, snippet_of

MAX_HTML_DEPTH = 256


class _TooDeep(Exception):
    """Raised inside lxml's callbacks; lxml hands it back out of the parse unchanged."""


class _BoundedBuilder(LXMLTreeBuilder):
    """The lxml tree builder, counting open elements (lxml reports implied closes too)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.depth = 0

    def feed(self, markup: Any) -> None:
        self.depth = 0  # BeautifulSoup may feed once per candidate encoding
        super().feed(markup)

    def start(self, *args: Any, **kwargs: Any) -> None:
        self.depth += 1
        if self.depth > self.limit:
            raise _TooDeep()
        super().start(*args, **kwargs)

    def end(self, *args: Any, **kwargs: Any) -> None:
        self.depth -= 1
        super().end(*args, **kwargs)


def parse_html(html: bytes, *, source: str, url: str, expected: str, limit: int = MAX_HTML_DEPTH) -> BeautifulSoup:
    """The page as a tree no more than `limit` elements deep, else a ParseError naming `url`."""
    try:
        return BeautifulSoup(html, builder=_BoundedBuilder(limit))
    except _TooDeep:
        raise ParseError(
            f"{source}: {url} nests its elements more than {limit:,} deep, so it was not read: real pages "
            f"nest a few dozen deep. Expected {expected}; check that the file or capture is the page you "
            "meant, and if it is, please report it.",
            url=url, expected=f"HTML nested at most {limit:,} deep", snippet=snippet_of(html),
        ) from None
