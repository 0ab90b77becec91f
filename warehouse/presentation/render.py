"""Words and tables for people: what changed in a quarter, as markdown or table rows.

Kept apart from the warehouse, which only reads the facts (warehouse.changes.ChangeSummary).
"""

from __future__ import annotations

from ringwatch.warehouse.changes import ChangeSummary


def cell(value: object) -> str:
    """A markdown table cell: a `|` or a line break in an agency's name cannot break the table."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def changes_markdown(summary: ChangeSummary, *, limit: int = 50) -> str:
    if summary.reports_only:  # a transparency load alone: what it changed, no map quarter
        return "\n".join(["# What changed in the transparency reports", "",
                          f"- New transparency periods: {', '.join(summary.new_periods) or 'none'}",
                          f"- Restated transparency periods: {', '.join(summary.restated_periods) or 'none'}",
                          *_unread_lines(summary, limit)]) + "\n"
    if summary.quarter is None:
        # Also shown after a sync that failed: never send the user back to the command that just failed.
        return "\n".join([
            "# What changed", "",
            "No agency-map snapshot is held yet. With a network, `ringwatch sync` takes one; without one, load "
            "a saved map with `ringwatch sync --from-file PAGE.kml` or an EFF Atlas of Surveillance export "
            "with `ringwatch import-atlas EXPORT.csv`.",
            *(["", *_unread_lines(summary, limit)] if summary.unread_pages else [])]) + "\n"
    lines = [f"# What changed in {summary.quarter}", ""]
    if summary.agencies is None:
        lines.append(f"- No agency-map snapshot is held for {summary.quarter}.")
    elif summary.compared_with is None:
        lines.append(f"- Agencies on the map: **{summary.agencies:,}** (the first quarter held: nothing to compare).")
    else:
        lines += [f"- Agencies on the map: **{summary.agencies:,}**",
                  f"- Joined since {summary.compared_with}: **{summary.joined or 0:,}**",
                  f"- Left since {summary.compared_with}: **{summary.left or 0:,}**",
                  f"- States added: {', '.join(summary.states_added) or 'none'}"]
        if summary.identity_review:
            lines.append(f"- Possibly one agency under two ids: **{summary.identity_review:,}** pair(s) to review "
                         "(`SELECT * FROM agency_identity_review`; decide in config/agency_aliases.csv)")
    lines.append(f"- New transparency periods: {', '.join(summary.new_periods) or 'none'}")
    lines.append(f"- Restated transparency periods: {', '.join(summary.restated_periods) or 'none'}")
    lines += _unread_lines(summary, limit)
    for change, title in (("joined", "Joined"), ("left", "Left")):
        chosen = [c for c in summary.changes if c.change == change]
        if not chosen:
            continue
        lines += ["", f"## {title} ({len(chosen):,})", "",
                  "| agency | city | state | type |", "| --- | --- | --- | --- |"]
        lines += [f"| {cell(c.name)} | {cell(c.city)} | {cell(c.state)} | {cell(c.agency_type)} |"
                  for c in chosen[:limit]]
        if len(chosen) > limit:
            lines.append(f"| … and {len(chosen) - limit:,} more | | | |")
    return "\n".join(lines) + "\n"


def _unread_lines(summary: ChangeSummary, limit: int) -> list[str]:
    """Report pages with numbers the parser could not place, and those numbers: nothing a page
    says is lost without a line here."""
    if not summary.unread_pages:
        return []
    lines = [f"- Report pages not read completely: **{len(summary.unread_pages):,}** "
             "(`SELECT * FROM report_pages_read WHERE NOT read_completely`)"]
    lines += [f"  - {cell(url)}: {unplaced:,} of {seen:,} numbers could not be placed"
              for url, unplaced, seen in summary.unread_pages[:limit]]
    if summary.unplaced_numbers:
        lines.append(f"- Numbers that could not be placed ({len(summary.unplaced_numbers):,}; each is a "
                     "`quality_warnings` row of kind `unplaced_number`):")
        lines += [f"  - {cell(detail)}" for detail in summary.unplaced_numbers[:limit]]
        if len(summary.unplaced_numbers) > limit:
            lines.append(f"  - … and {len(summary.unplaced_numbers) - limit:,} more")
    return lines


def changes_table(summary: ChangeSummary, *, limit: int = 50) -> list[dict[str, str]]:
    rows = []
    for change in ("joined", "left"):
        chosen = [c for c in summary.changes if c.change == change][:limit]
        rows += [{"change": c.change, "agency": c.name, "city": c.city or "", "state": c.state or "",
                  "type": c.agency_type} for c in chosen]
    return rows
