"""The trust boundary in the layout: no trusted module imports the jailed worker package (competition.worker).

Every module of the harness outside competition/worker/ is parsed (AST, so nothing is executed) and each import
statement is resolved to the absolute module name it names, relative imports included.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKER = "competition.worker"
TRUSTED_ROOTS = ("competition", "scripts", "benchmarks")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute module names imported by `source`, the code of `module` (from-imports also name module.attribute,
    since `from competition import worker` imports the worker)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def file_imports(path: Path) -> set[str]:
    return imported_names(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")


def trusted_files() -> list[Path]:
    files = [p for root in TRUSTED_ROOTS for p in (REPO / root).rglob("*.py")]
    return sorted(p for p in files if not p.is_relative_to(REPO / "competition" / "worker"))


def imports_worker(names: set[str]) -> list[str]:
    return sorted(n for n in names if n == WORKER or n.startswith(WORKER + "."))


def test_no_trusted_module_imports_the_worker() -> None:
    files = trusted_files()
    assert len(files) > 40 and REPO / "competition" / "run.py" in files
    offenders = {str(p.relative_to(REPO)): imports_worker(file_imports(p)) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_every_form_of_import() -> None:
    forms = ["import competition.worker", "from competition.worker import server", "from competition import worker",
             "from .. import worker", "from ..worker.server import Server",
             "import importlib\nimportlib.import_module('competition.worker.server')"]
    for source in forms:
        assert imports_worker(imported_names(source, "competition.measure.example")), source
    assert not imports_worker(imported_names("from competition.sandbox import channel\nimport competition.workers",
                                             "competition.measure.example"))


def test_the_worker_is_the_module_the_jail_runs() -> None:
    from competition.sandbox import process

    assert process.WORKER_MODULE == WORKER
    assert (REPO / "competition" / "worker" / "__main__.py").is_file()
    assert not (REPO / "competition" / "sandbox" / "worker.py").exists()
