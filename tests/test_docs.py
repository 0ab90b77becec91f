"""The documentation tells the truth: every command, option, table, view and env variable is in it.

The README is the landing page (what ringwatch is, the two set-up commands, the offline
walkthrough, the commands, the architecture) and links the reference in docs/*.md, one file
per topic. The checks on reference content read the README and docs/*.md together; every
relative link in them must reach an existing file and, for an #anchor, an existing heading.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ringwatch.flows.cli import cli
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.sql import sql_files

ROOT = Path(__file__).resolve().parents[1]
README_PATH = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README_PATH, *DOCS]
README = README_PATH.read_text(encoding="utf-8")
# README + docs/*.md: where reference content may live.
REFERENCE = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text outside code blocks and code spans, where links and headings are read."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def anchors(text: str) -> set[str]:
    """The ids GitHub gives the headings: lower case, punctuation dropped, spaces to hyphens,
    a repeated id numbered -1, -2, ..."""
    seen: dict[str, int] = {}
    ids: set[str] = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2))  # a link keeps its text
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def relative_links(page: Path) -> list[str]:
    targets = LINK.findall(prose(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_and_option_is_documented(command: str) -> None:
    assert f"ringwatch {command}" in README
    for param in cli.commands[command].params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in REFERENCE, f"{command} {opt}"


def test_every_table_and_view_is_documented_with_its_columns() -> None:
    con = connect(":memory:")
    rows = con.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal GROUP BY table_name").fetchall()
    con.close()
    for name, columns in rows:
        line = next((ln for ln in REFERENCE.splitlines() if ln.startswith(f"| `{name}` |")), None)
        assert line is not None, f"{name} missing from the tables of the README and docs/*.md"
        assert ", ".join(columns) in line, f"{name}: documented columns differ from {columns}"


def test_every_view_file_is_in_the_readme() -> None:
    for view in sql_files("views"):
        assert f"`{view.name.removesuffix('.sql')}`" in REFERENCE


def test_every_environment_variable_is_documented() -> None:
    code = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "flows").rglob("*.py")))
    names = set(re.findall(r"RINGWATCH_[A-Z_]+", code)) - {"RINGWATCH_"}
    names.discard("RINGWATCH_{SOURCE}_URL")
    for name in names | {"RINGWATCH_AGENCY_MAP_URL"}:
        assert f"`{name}`" in REFERENCE, name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_its_heading(page: Path) -> None:
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: link {target!r}: no file {dest}"
        if anchor:
            assert dest.suffix == ".md", f"{page.name}: link {target!r}: an anchor into a non-markdown file"
            known = anchors(dest.read_text(encoding="utf-8"))
            assert anchor in known, f"{page.name}: link {target!r}: no heading #{anchor} in {dest.name}"


def test_the_readme_links_every_docs_file() -> None:
    assert DOCS, "docs/*.md holds the reference"
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(README_PATH)}
    for doc in DOCS:
        assert doc.resolve() in linked, f"README.md does not link {doc.relative_to(ROOT)}"


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    blocks = re.findall(r"^```sh\n(.*?)\n```", README, re.MULTILINE | re.DOTALL)
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    test_command = next(ln for ln in ci_lines if ".venv/bin/pytest" in ln)
    assert test_command in blocks, "the README's test command differs from the one .ci/run runs"
