"""Fetch Ring's transparency report pages: index pages first, then the reports they link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.transparency import SOURCE, find_report_links


@dataclass
class FetchedReports:
    """Every capture made, which URLs are report pages to parse, and which of those were only
    discovered (an index page or a followed link): a discovered page without figures is not a
    report, while a configured report without figures is an error."""

    captures: list[Capture] = field(default_factory=list)
    report_urls: list[str] = field(default_factory=list)
    discovered: set[str] = field(default_factory=set)


def fetch_reports(client: PoliteClient, *, report_urls: list[str], index_urls: list[str],
                  on_capture: Callable[[Capture], None] = lambda capture: None) -> FetchedReports:
    """Fetch the index pages, follow their report links, then fetch every report page.

    Index pages are candidates too: the later "Law Enforcement Information Requests page"
    may hold figures itself. Known report URLs come first, then what the indexes linked.
    `on_capture` sees each capture as it arrives, so the caller can keep it even if a later
    fetch fails.
    """
    result = FetchedReports()
    known = list(dict.fromkeys(report_urls))
    queue = list(known)
    for index_url in index_urls:
        capture = client.fetch(index_url, source=SOURCE)
        on_capture(capture)
        result.captures.append(capture)
        for link in find_report_links(capture.body, base_url=capture.url):
            if link not in queue and link not in index_urls:
                queue.append(link)
                result.discovered.add(link)
        result.report_urls.append(index_url)
        if index_url not in known:
            result.discovered.add(index_url)
    fetched = {c.url for c in result.captures}
    for url in queue:
        if url in fetched:
            continue
        capture = client.fetch(url, source=SOURCE)
        on_capture(capture)
        result.captures.append(capture)
        result.report_urls.append(url)
        fetched.add(url)
    return result
