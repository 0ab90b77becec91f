"""The release's words: README.md, CITATION.cff and CHANGES.md.

Each text is made from what the release holds (its relations, quarters and origins), never
from figures written by hand, and passes through the scrubber before it is written, like the
data: a file named in a warning or a change keeps its base name only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ringwatch.warehouse.changes import ChangeSummary
from ringwatch.warehouse.presentation.publish.package import WrittenRelation
from ringwatch.warehouse.presentation.publish.provenance import (
    ATLAS,
    ATLAS_CREDIT,
    CC_BY_4_URL,
    PROVENANCE_COLUMNS,
    RING_MAP,
    RING_TRANSPARENCY,
)
from ringwatch.warehouse.presentation.render import cell, changes_markdown


@dataclass(frozen=True, slots=True)
class HeldQuarter:
    quarter: str
    origin: str
    observed_on: str
    agencies: int
    source_name: str
    undated: int  # agencies of the snapshot without an Active Date


@dataclass(frozen=True, slots=True)
class ReleaseFacts:
    release_id: str
    quarter: str
    created: datetime
    ringwatch_version: str
    schema_version: int
    relations: tuple[WrittenRelation, ...]
    quarters: tuple[HeldQuarter, ...]  # agency-map quarters held, oldest first
    figures: int  # transparency figures held (every observation)
    transparency_periods: tuple[str, ...]

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(o for r in self.relations for o in r.origins)

    @property
    def has_atlas(self) -> bool:
        """Whether any row of data comes from an Atlas export (an Atlas capture whose load was kept
        out, as nearer observations stood for its quarter, is not data)."""
        return any("atlas" in r.origins for r in self.relations if r.relation.ring_source is not None)

    @property
    def broken_keys(self) -> tuple[str, ...]:
        return tuple(k for r in self.relations for k in r.broken_keys)


def readme(facts: ReleaseFacts) -> str:
    latest = facts.quarters[-1] if facts.quarters else None
    lines = [
        f"# Ring's police partnerships: ringwatch release {facts.release_id}",
        "",
        f"Release `{facts.release_id}`: the warehouse as of quarter **{facts.quarter}** (the latest quarter held), "
        f"made {facts.created:%Y-%m-%d %H:%M} UTC by ringwatch {facts.ringwatch_version} (warehouse schema "
        f"{facts.schema_version}). The id is the quarter and the first 8 hex digits of a SHA-256 over the data "
        "files, so the same data always has the same id. A release is never changed: a later one gets its own "
        "folder beside this one, and `latest.json` there names the newest.",
        "",
        "## What is here",
        "",
        "| file | what |",
        "| --- | --- |",
        "| `datapackage.json` | A Frictionless Data Package: every table with its Table Schema (types, a description "
        "of every column, primary and foreign keys), sources and licences. |",
        "| `data/<table>.csv`, `data/<table>.parquet` | Each table in both formats, the same rows. |",
        "| `ringwatch.sqlite`, `metadata.json` | The same tables in one SQLite file, and its Datasette metadata: "
        "`datasette serve ringwatch.sqlite --metadata metadata.json` browses them without SQL. |",
        "| `report.html`, `charts/*.png` | The trend report and its charts, drawn from this data. |",
        "| `CHANGES.md` | What changed, quarter by quarter: joins and departures by name. |",
        "| `CITATION.cff` | How to cite this release. |",
        "",
        "## Tables",
        "",
        "| table | rows | what |",
        "| --- | ---: | --- |",
        *[f"| `{r.name}` | {r.rows:,} | {cell(r.relation.title)}: {cell(_first_sentence(r.description))} |"
          for r in facts.relations],
        "",
        "Every column is described in `datapackage.json` (and in Datasette). Times are UTC; quarters are "
        "`YYYYQn`.",
        "",
        "## Where each row comes from",
        "",
        "Rows of agencies and of transparency figures carry their provenance:",
        "",
        *[f"- `{name}`: {text}" for name, text in PROVENANCE_COLUMNS.items()],
        "",
        "Counts per quarter carry the provenance of that quarter's snapshot. `captures` lists every capture (its "
        "web address, or for a saved file or an Atlas export the file's name only), `snapshots` which capture "
        "stands for each quarter, and `sync_runs` every attempt, failed ones too.",
        "",
        "## Quarters held",
        "",
    ]
    if facts.quarters:
        lines += ["| quarter | agencies | origin | observed | source | without an Active Date |",
                  "| --- | ---: | --- | --- | --- | ---: |"]
        lines += [f"| {q.quarter} | {q.agencies:,} | {q.origin} | {q.observed_on} | {cell(q.source_name)} | "
                  f"{q.undated:,} |" for q in facts.quarters]
    else:
        lines.append("No agency-map snapshot is held.")
    lines += ["", f"Transparency figures held: {facts.figures:,}"
              + (f", for the periods {', '.join(facts.transparency_periods)}." if facts.transparency_periods
                 else ".")]
    lines += [
        "",
        "## The quarter rule",
        "",
        "A snapshot is labelled with the quarter whose last day is nearest to the observation (in whole UTC "
        "days); when several observations fall to one quarter, the one nearest the quarter's last day stands for "
        "it. Quarters missing from the table above were not observed: comparisons (joined, left) are with the "
        "last quarter held before (`compared_with`).",
        "",
        "## Agency identity",
        "",
        "One agency has one `agency_id` across eras and sources: the agency's Ring profile uuid, or for an agency "
        "never seen with a profile `h-` and a hash of its normalized name, city and state (provisional: it "
        "becomes the uuid once a placemark links the two). `agency_keys` maps every key an agency was seen under "
        "(profile uuid, normalized name, Atlas record number, FBI ORI) to its id: cite agencies by name or "
        "profile and look them up there. `agency_name_history` keeps each name an agency was listed under.",
        "",
        "## Known limits",
        "",
        "- `agency_joins_by_quarter` reconstructs growth from the Active Dates of the latest snapshot: agencies "
        "that left the map are not in it, and agencies without an Active Date are in no quarter, so it is a "
        "lower bound on past sizes"
        + (f" ({latest.undated:,} of the {latest.agencies:,} agencies of {latest.quarter} give no Active Date)."
           if latest else "."),
        "- Identity links eras only through a key seen together (a profile with a name, an Atlas record number) "
        "or the same normalized name in the same city and state; a renamed agency of the 2019-2021 map, or a "
        "sheriff EFF files under another town, shows as a departure and a join until a person decides it.",
        "- Counts of video requests come from a Data field of the 2020-era map whose exact name was never "
        "recorded; every numeric field whose name speaks of requests is read.",
        "- Transparency figures are Ring's own statements; a range (national-security requests) is a range, not "
        "a number, and yearly sums with a missing half are empty, not smaller.",
        "- The raw captured bytes are not in the release: each capture's SHA-256 identifies them.",
    ]
    if facts.broken_keys:
        lines.append("- Keys not declared in `datapackage.json` because this data breaks them: "
                     + "; ".join(facts.broken_keys) + ".")
    lines += ["", "## Sources and licences", "", *_licence_lines(facts), "", "## How to cite", "",
              "Cite the release by its id; `CITATION.cff` holds the details. For example:", "",
              f"> {citation_text(facts)}", ""]
    if facts.has_atlas:
        lines += ["and, for the rows and charts from the Atlas of Surveillance:", "", f"> {ATLAS_CREDIT}", ""]
    lines += [
        "## What is not published",
        "",
        "The database's own bookkeeping (`schema_migrations`, `schema_views`), its internal identity tables "
        "(`agency_observations`, `agency_observation_fields`: the published `agency_snapshots` shows them under "
        "resolved ids), the aliases file's notes, and the captured bytes. No file of the release holds a local "
        "path, a host name or a process id: a file loaded from disk is named by its base name only.",
    ]
    return "\n".join(lines) + "\n"


def _licence_lines(facts: ReleaseFacts) -> list[str]:
    atlas_state = ("Rows with origin `atlas` (and charts drawn from them) come from it." if facts.has_atlas
                   else "This release holds no row from it.")
    return [
        f"- **{RING_MAP.name}** and **{RING_TRANSPARENCY.name}** (origins `live`, `wayback`, `file`): facts "
        "published by Ring, captured by ringwatch on the day each row's `observed_on` gives (from Ring's site, "
        "from an Internet Archive copy of it, or from a saved copy). No licence granted by Ring is known: Ring "
        "states none for this data, and this release grants none on Ring's behalf; the `license` column says "
        "`none known`.",
        f"- **{ATLAS.name}** (origin `atlas`): {atlas_state} Licensed CC BY 4.0 ({CC_BY_4_URL}); credit it "
        f"as: \"{ATLAS_CREDIT}\" CC BY 4.0 is the licence EFF states on atlasofsurveillance.org, as we recorded "
        "it; check the exact credit wording against atlasofsurveillance.org before print.",
        "- ringwatch's own records (`sync_runs`, `quality_warnings`, `removed_loads`, `report_ledgers`): how "
        "the data was collected and checked.",
        "",
        "`data_sources` holds the same, one row per source, and each table's `sources` and `licenses` in "
        "`datapackage.json` name the sources its rows come from.",
    ]


def citation_text(facts: ReleaseFacts) -> str:
    sources = "Ring's Active Agency Map and law-enforcement transparency reports"
    if facts.has_atlas:
        sources += ", and EFF's Atlas of Surveillance (CC BY 4.0)"
    return (f"ringwatch. Ring's police partnerships, quarter by quarter, release {facts.release_id} "
            f"({facts.created:%Y-%m-%d}). Compiled from {sources}.")


def citation_cff(facts: ReleaseFacts) -> str:
    """CITATION.cff (Citation File Format 1.2.0); every string is written as a JSON string, which
    YAML reads as the same double-quoted scalar."""
    q = json.dumps
    lines = [
        "cff-version: 1.2.0",
        f"message: {q('If you use this data, cite it as below, and credit each source as the release README says.')}",
        "type: dataset",
        f"title: {q(f'Ring police partnerships, quarter by quarter (ringwatch release {facts.release_id})')}",
        f"version: {q(facts.release_id)}",
        f"date-released: {q(f'{facts.created:%Y-%m-%d}')}",
        "authors:",
        f"  - name: {q('ringwatch')}",
        f"abstract: {q(citation_text(facts))}",
        "keywords:",
        *[f"  - {q(k)}" for k in ("Ring", "Neighbors", "police", "surveillance", "transparency reports")],
        "references:",
        "  - type: database",
        f"    title: {q(RING_MAP.name)}",
        "    authors:",
        f"      - name: {q(RING_MAP.publisher)}",
        "  - type: report",
        f"    title: {q(RING_TRANSPARENCY.name)}",
        "    authors:",
        f"      - name: {q(RING_TRANSPARENCY.publisher)}",
    ]
    if facts.has_atlas:
        lines += [
            "  - type: database",
            f"    title: {q('Atlas of Surveillance')}",
            "    authors:",
            f"      - name: {q('Electronic Frontier Foundation (EFF)')}",
            f"      - name: {q('Reynolds School of Journalism, University of Nevada, Reno')}",
            f"    url: {q(ATLAS.url)}",
            f"    license: {q(ATLAS.license)}",
            f"    notes: {q(ATLAS_CREDIT)}",
        ]
    return "\n".join(lines) + "\n"


def changes_text(summaries: Sequence[ChangeSummary], quarters: Sequence[HeldQuarter]) -> str:
    """CHANGES.md: each quarter held, newest first, with its joins and departures by name."""
    held = {q.quarter: q for q in quarters}
    lines = ["# What changed, quarter by quarter", "",
             "Each agency-map quarter held, newest first: agencies on the map, who joined and who left since the "
             "quarter held before it, and the transparency periods first seen in it.", ""]
    for summary in summaries:
        if summary.quarter is None:
            continue
        quarter = held.get(summary.quarter)
        lines.append(f"## {summary.quarter}")
        lines.append("")
        if quarter:
            lines.append(f"- Observed {quarter.observed_on}, origin {quarter.origin} ({quarter.source_name})")
        body = changes_markdown(dataclasses.replace(summary, unread_pages=(), unplaced_numbers=()),
                                limit=1_000_000).splitlines()[2:]
        lines += [("#" + line) if line.startswith("## ") else line for line in body]
        lines.append("")
    if len(lines) == 4:
        lines += ["No agency-map snapshot is held.", ""]
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + ("." if dot or not head.endswith(".") else "")
