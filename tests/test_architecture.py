"""The layers of the package depend on each other in one direction only.

Every `import` in scoring/ (module level and inside functions; not those under
`if TYPE_CHECKING:`, which only name types for the reader) is read with `ast` and checked
against the table below: a package may import itself and the packages listed for it. The
README's "How it works" explains the cut.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scoring"

# package -> the packages it may import (besides itself)
ALLOWED = {
    "base": set(),
    "lang": {"base"},
    "domain": {"base", "lang"},
    "inputs": {"base", "domain", "lang"},
    "rulebook": {"base", "domain", "lang"},
    "ledger": {"base", "lang"},
    "engine": {"base", "lang", "domain", "inputs", "rulebook", "ledger"},
    "checks": {"base", "lang", "domain", "inputs", "rulebook", "ledger", "engine"},
    "audit": {"base", "domain", "inputs", "rulebook", "ledger"},
    "reports": {"base", "lang", "ledger"},
    "app": {"base", "lang", "domain", "inputs", "rulebook", "ledger", "engine", "checks", "audit"},
    "web": {"base", "ledger", "reports", "app"},
    "cli": {"base", "domain", "ledger", "reports", "app", "web"},
}
NATIVE_ENGINE = {"durable", "durable_rules", "durable_rules_engine"}
ENGINE_WRAPPER = "scoring.engine.durable"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
               for node in ast.walk(block)}
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [(node.lineno, f"{module}.{alias.name}" if module in ("scoring", *_packages()) else module)
                      for alias in node.names]
    return found


def _packages() -> list[str]:
    return [f"scoring.{p}" for p in ALLOWED]


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "scoring" else None


def test_every_package_is_in_the_table():
    found = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert found == set(ALLOWED)
    assert [p.name for p in PACKAGE.glob("*.py")] == ["__init__.py"], "every module belongs to a package (layer)"


def test_imports_go_one_way():
    wrong = []
    for path in modules():
        mine = layer(module_name(path))
        if mine is None:
            continue
        for line, imported in runtime_imports(path):
            theirs = layer(imported)
            if theirs is not None and theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mine} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_only_the_engine_wrapper_imports_durable_rules():
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {imported}" for path in modules()
             for line, imported in runtime_imports(path)
             if imported.split(".")[0] in NATIVE_ENGINE and module_name(path) != ENGINE_WRAPPER]
    assert not found, "\n".join(found)


def test_the_table_has_no_cycle():
    def reach(start: str, seen: set) -> set:
        for other in ALLOWED[start] - seen:
            seen.add(other)
            reach(other, seen)
        return seen
    assert not [p for p in ALLOWED if p in reach(p, set())]


def test_modules_import_each_other_without_a_cycle():
    """At module level (what runs when a module is first imported), the modules form no cycle."""
    graph = {}
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        names = {m for line, m in runtime_imports(path) if any(n.lineno == line for n in top)}
        known = {module_name(p) for p in modules()}
        graph[module_name(path)] = {m if m in known else m.rsplit(".", 1)[0] for m in names} & known

    def cycle_from(node, stack, done):
        if node in stack:
            return stack[stack.index(node):] + [node]
        if node in done:
            return None
        done.add(node)
        for nxt in sorted(graph.get(node, ())):
            found = cycle_from(nxt, [*stack, node], done)
            if found:
                return found
        return None

    done: set = set()
    for start in sorted(graph):
        found = cycle_from(start, [], done)
        assert found is None, " -> ".join(found)


def _loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.parametrize("modules_", [
    "scoring.reports.text, scoring.reports.html, scoring.reports.xlsx, scoring.reports.worklist",
    "scoring.audit.compare, scoring.audit.runs, scoring.audit.store",
])
def test_reports_and_audit_never_load_the_engine(modules_):
    loaded = _loaded_by(f"import {modules_}")
    assert not loaded & NATIVE_ENGINE and "scoring.engine.durable" not in loaded


def test_the_ledger_document_loads_neither_the_engine_nor_pydantic():
    loaded = _loaded_by("import scoring.ledger.document, scoring.ledger.build")
    assert not loaded & (NATIVE_ENGINE | {"pydantic"})


def test_help_loads_neither_the_engine_nor_pydantic():
    loaded = _loaded_by("from click.testing import CliRunner; from scoring.cli import main; "
                        "assert CliRunner().invoke(main, ['--help']).exit_code == 0")
    assert not loaded & (NATIVE_ENGINE | WEB | {"pydantic", "openpyxl", "tabulate"})


WEB = {"flask", "werkzeug", "jinja2", "waitress"}


def test_the_web_server_never_loads_the_engine():
    """The workbench's process serves pages; the scoring is done in jobs of their own (scoring/web/jobs.py)."""
    loaded = _loaded_by("from pathlib import Path; import tempfile; from scoring.web import Settings, create_app; "
                        "create_app(Settings(Path(tempfile.mkdtemp()), Path('runs.db'), None))")
    assert "flask" in loaded
    assert not loaded & (NATIVE_ENGINE | {"pydantic", "openpyxl"}) and not any(m.startswith("scoring.engine") for m in loaded)
