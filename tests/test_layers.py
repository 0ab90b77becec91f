"""Keep the layers honest: only scrapers/http.py talks to the network, only warehouse/
talks to DuckDB, parsers import neither, and flows hold no SQL or selectors."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


PROJECT_PACKAGES = ("flows", "scrapers", "warehouse", "config")


def local(name: str) -> str:
    """The repository-relative name of an import: ringwatch.scrapers.http -> scrapers.http
    (the repository folders are installed under the one package ringwatch)."""
    return name.removeprefix("ringwatch.")


def imports_of(path: Path) -> set[str]:
    return {name.split(".")[0] for name in full_imports_of(path)}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_only_the_http_module_imports_requests() -> None:
    users = {p.relative_to(ROOT).as_posix() for pkg in ("scrapers", "warehouse", "flows")
             for p in modules(pkg) if {"requests", "urllib3", "httpx"} & imports_of(p)}
    assert users == {"scrapers/http.py"}
    # The one other network call: asking a configured Prefect API for its health (not a site).
    urllib_users = {p.relative_to(ROOT).as_posix() for pkg in ("scrapers", "warehouse", "flows")
                    for p in modules(pkg) if "urllib.request" in full_imports_of(p)}
    assert urllib_users == {"flows/orchestration/api.py"}


def full_imports_of(path: Path) -> set[str]:
    """Imported module names in full (scrapers.http, not scrapers)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {local(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(local(node.module))
    return found


def transitive_imports(module: str) -> set[str]:
    """Every module `module` imports, following the project's own modules to the end."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        if name in seen or not path.exists():
            seen.add(name)
            continue
        seen.add(name)
        todo += [m for m in full_imports_of(path) if m not in seen]
    return seen - {module}


PARSERS = ("scrapers.agency_map", "scrapers.atlas", "scrapers.transparency", "scrapers.transparency_layout",
           "scrapers.wayback", "scrapers.agency_names", "scrapers.normalize", "scrapers.robots")


def test_parsers_reach_neither_the_network_nor_the_http_client_even_indirectly() -> None:
    for parser in PARSERS:
        reached = transitive_imports(parser)
        assert not {"requests", "urllib3", "httpx", "scrapers.http", "urllib.request"} & reached, parser
        assert not {m for m in reached if m.startswith(("warehouse", "flows", "prefect", "duckdb"))}, parser


def test_the_jobs_and_the_cli_fast_path_never_import_prefect() -> None:
    for module in ("flows.core.sync", "flows.core.backfill", "flows.core.atlas", "flows.core.reparse",
                   "flows.orchestration.api", "warehouse.presentation.render", "flows.core.settings"):
        assert not {m for m in transitive_imports(module) if m.split(".")[0] == "prefect"}, module


def test_only_the_warehouse_imports_duckdb() -> None:
    users = {p.relative_to(ROOT).as_posix() for pkg in ("scrapers", "flows")
             for p in modules(pkg) if "duckdb" in imports_of(p)}
    assert users == set()


def test_scrapers_never_import_the_warehouse_or_flows() -> None:
    for path in modules("scrapers"):
        assert not {"warehouse", "flows", "prefect"} & imports_of(path), path


def test_flows_hold_no_sql() -> None:
    sql = re.compile(
        r"^\s*(SELECT\s|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s|WITH\s+\w+\s+AS\s*\()", re.I)
    for path in modules("flows"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not sql.match(node.value), f"{path}: {node.value[:60]!r}"


def test_sql_is_never_built_from_text() -> None:
    """No execute() call formats its SQL (f-string, %, + or .format): values go in as
    parameters, so scraped text can never become SQL."""
    offenders = []
    for package in ("scrapers", "warehouse", "flows"):
        for path in modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("execute", "executemany", "sql") and node.args):
                    continue
                sql = node.args[0]
                built = isinstance(sql, (ast.JoinedStr, ast.BinOp)) or (
                    isinstance(sql, ast.Call) and isinstance(sql.func, ast.Attribute) and sql.func.attr == "format")
                if built:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_project_modules_are_imported_only_under_the_ringwatch_package() -> None:
    """The wheel installs the folders as ringwatch.flows, ringwatch.scrapers, ...: a bare
    `import scrapers` works in the repository (pytest puts it on sys.path) but not installed."""
    bare = []
    for path in sorted(p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and "build" not in p.parts):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            bare += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                     if n.split(".")[0] in PROJECT_PACKAGES]
    assert bare == []


def test_no_module_imports_itself_through_others() -> None:
    """No import cycle among the project's modules, imports inside functions included: a cycle
    works only while its modules happen to be imported in one order (db.py once imported
    identity_store.py, which imported db.py back)."""
    names = {}
    for package in PROJECT_PACKAGES:
        for path in modules(package):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        found = set(full_imports_of(path))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:  # from package import module
                found |= {f"{local(node.module)}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in found if m in names and m != name}

    # Tarjan's strongly connected components: every component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for other in sorted(graph[name]):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == name:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)

    def path_around(component: list[str]) -> str:
        """The shortest cycle through the component's first module, as a chain of imports,
        and every module of the component."""
        start = component[0]
        paths = {start: [start]}
        todo = [start]
        while todo:
            name = todo.pop(0)
            for other in sorted(graph[name] & set(component)):
                if other == start:
                    return f"{' -> '.join([*paths[name], start])} (all of: {', '.join(component)})"
                if other not in paths:
                    paths[other] = [*paths[name], other]
                    todo.append(other)
        return ", ".join(component)

    assert [path_around(c) for c in cycles] == []
