"""AST check of a submission folder: imports outside the allow-list and escape hatches, with file and line.

A lint: an early, friendly error (so is the worker's audit hook), never the boundary. Python cannot be confined from
inside (reflection reaches everything from anything), so no guarantee of the harness rests on this check: the OS jail
(jail.py) and the parent's outside meters and checks hold for code that evades it, and the tests run their attacks
past it. It is deliberately strict: submissions may use only NumPy, tinytorch and a few pure standard-library
modules, may not reach an OS module through another module's attributes (`tinytorch.atomic.os`, `enum.bltns`,
`typing.operator.attrgetter("sys")`), and may not unpickle.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

from competition.problems import Problem

ALLOWED_IMPORTS = frozenset(
    {"numpy", "tinytorch", "math", "functools", "itertools", "dataclasses", "typing", "collections", "enum", "abc",
     "__future__"}
)
# Submodules of allowed packages that reach the OS (C pointers, compilers, process helpers).
FORBIDDEN_SUBMODULES = frozenset({"ctypeslib", "f2py", "distutils", "testing"})
FORBIDDEN_NAMES = frozenset(
    {"open", "eval", "exec", "compile", "__import__", "globals", "locals", "vars", "breakpoint", "input", "exit",
     "quit", "help", "memoryview", "__builtins__", "__loader__", "__spec__"}
)
REFLECTION_CALLS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
FORBIDDEN_ATTRIBUTES = frozenset(
    {"__dict__", "__class__", "__subclasses__", "__globals__", "__builtins__", "__code__", "__bases__", "__base__",
     "__mro__", "__closure__", "__func__", "__self__", "__getattribute__", "__reduce__", "__reduce_ex__",
     "__loader__", "__spec__", "__import__", "__subclasshook__", "__defaults__", "__kwdefaults__", "__traceback__",
     "mro", "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "gi_frame", "gi_code", "cr_frame",
     "ag_frame", "tb_frame", "tb_next", "co_code", "ctypeslib", "f2py", "distutils", "memmap", "fromfile", "tofile",
     # reflection and code objects reached as attributes (`typing.operator.attrgetter("sys")`, `enum.bltns.eval`,
     # `typing.types.FunctionType`): what FORBIDDEN_NAMES refuses as a bare name
     "attrgetter", "methodcaller", "import_module", "CodeType", "FunctionType", "getattr", "setattr", "delattr",
     "exec", "compile", "globals", "locals", "vars", "breakpoint", "_open"}
)
# Modules an allowed package imports for itself: reaching them as attributes (`tinytorch.atomic.os.system`,
# `tinytorch.serialization.os`) or importing them from it (`from tinytorch.atomic import os`) would launder a
# forbidden import.
# Includes every module alias the allowed packages hold (`enum.bltns`, `dataclasses._thread`, `typing.operator`), as
# test_static_check lists them from the installed packages; only `copy`, `types`, `re` and the like are left out, names
# too common as attributes of arrays and modules (`types` leads nowhere without its CodeType/FunctionType, refused).
FORBIDDEN_MODULE_ATTRIBUTES = frozenset(
    {"os", "sys", "subprocess", "shutil", "socket", "builtins", "importlib", "ctypes", "pathlib", "io", "tempfile",
     "signal", "resource", "posix", "_posixsubprocess", "gc", "inspect", "runpy", "threading", "multiprocessing",
     "mmap", "pickle", "marshal", "urllib", "http", "atomic", "_sys", "_os", "_io", "_imp", "_thread", "bltns",
     "operator", "platform", "gzip", "tarfile", "zipfile", "contextlib", "warnings", "ast", "json", "hashlib",
     "weakref", "zipimport", "argparse", "shlex", "tracemalloc"}
)
# Loaders whose allow_pickle argument can also be given by position or through ** unpacking.
PICKLE_LOADERS = {"load": 2, "read_array": 1}  # name -> index of the positional allow_pickle argument
# tinytorch's dataset loaders: the harness hands each worker the data it may see; test labels stay in the parent.
DATASET_LOADERS = frozenset(
    {"bundled_mnist", "load_mnist", "load_cifar10", "shakespeare_text", "shakespeare_works", "shakespeare_tokenizer",
     "cache_dir"}
)
# Compiled or path-hook files would run native code or hijack imports; only .py source is checked and allowed.
FORBIDDEN_SUFFIXES = frozenset({".so", ".pyd", ".dll", ".dylib", ".pyc", ".pyo", ".pth", ".exe", ".bin", ".sh"})


_PICKLE_HINT = "store weights as plain arrays in .npz (tinytorch.save) and load them with tinytorch.load"
_DATA_HINT = "the harness passes the inputs (and, for training, the training split) to your functions"


def check_folder(folder: Path) -> list[Problem]:
    """Every static-check problem in the submission `folder` (all *.py files, recursively), sorted by file/line."""
    folder = Path(folder)
    local_modules = _local_module_names(folder)
    problems: list[Problem] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix.lower() in FORBIDDEN_SUFFIXES:
            problems.append(Problem(rel, f"compiled or executable file type '{path.suffix}' is not allowed",
                                    "submit Python source (.py), weights (.npz) and text files only"))
        elif path.suffix == ".py":
            problems.extend(check_source(path.read_text(encoding="utf-8", errors="replace"), rel, local_modules))
    return problems


def check_source(source: str, filename: str, local_modules: frozenset[str] = frozenset()) -> list[Problem]:
    """Static-check one Python source text; `local_modules` are importable sibling modules of the submission."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as err:
        return [Problem(filename, f"syntax error: {err.msg}", "make the file valid Python 3.11", line=err.lineno)]
    visitor = _Checker(filename, local_modules)
    visitor.visit(tree)
    return sorted(visitor.problems, key=lambda p: (p.line or 0, p.message))


def _local_module_names(folder: Path) -> frozenset[str]:
    """Sibling modules the submission may import; a file named like a real module (os.py) does not count."""
    names = {p.stem for p in folder.glob("*.py")} | {p.parent.name for p in folder.glob("*/__init__.py")}
    return frozenset(n for n in names if n not in sys.stdlib_module_names and not _installed(n))


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class _Checker(ast.NodeVisitor):
    def __init__(self, filename: str, local_modules: frozenset[str]) -> None:
        self.filename = filename
        self.local_modules = local_modules
        self.problems: list[Problem] = []
        self.called: set[int] = set()  # ids of the Name nodes that are called (getattr(...) is checked there)

    def _add(self, node: ast.AST, message: str, hint: str) -> None:
        self.problems.append(Problem(self.filename, message, hint, line=getattr(node, "lineno", None)))

    def _check_module(self, node: ast.AST, module: str) -> None:
        parts = module.split(".")
        if parts[0] not in ALLOWED_IMPORTS and parts[0] not in self.local_modules:
            allowed = ", ".join(sorted(ALLOWED_IMPORTS - {"__future__"}))
            self._add(node, f"import of '{module}' is not allowed", f"use only {allowed}")
        elif any(part in FORBIDDEN_SUBMODULES for part in parts[1:]):
            self._add(node, f"import of '{module}' is not allowed", "these submodules reach the operating system")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0:
            self._check_module(node, node.module or "")
            for alias in node.names:
                if alias.name in DATASET_LOADERS:
                    self._add(node, f"import of the dataset loader '{alias.name}' is not allowed", _DATA_HINT)
                elif alias.name in FORBIDDEN_SUBMODULES | FORBIDDEN_NAMES | FORBIDDEN_MODULE_ATTRIBUTES:
                    self._add(node, f"import of '{alias.name}' from '{node.module}' is not allowed",
                              "these names reach the operating system or the interpreter internals")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in REFLECTION_CALLS and id(node) not in self.called:  # e.g. functools.reduce(getattr, names, np)
            self._add(node, f"'{node.id}' passed around as a value is not allowed",
                      "call it directly with a literal attribute name")
        elif node.id in DATASET_LOADERS:
            self._add(node, f"use of the dataset loader '{node.id}' is not allowed", _DATA_HINT)
        elif node.id in FORBIDDEN_NAMES:
            self._add(node, f"use of '{node.id}' is not allowed",
                      "load weights with tinytorch.load and compute with NumPy; no file, eval or import tricks")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in DATASET_LOADERS:
            self._add(node, f"use of the dataset loader '{node.attr}' is not allowed", _DATA_HINT)
        elif node.attr in FORBIDDEN_ATTRIBUTES:
            self._add(node, f"access to attribute '{node.attr}' is not allowed",
                      "interpreter internals and raw file/memory access are off limits")
        elif node.attr in FORBIDDEN_MODULE_ATTRIBUTES | FORBIDDEN_SUBMODULES:
            self._add(node, f"access to attribute '{node.attr}' is not allowed",
                      "it reaches a module outside the allow-list through another module")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)) and b"allow_pickle" in (
                node.value if isinstance(node.value, bytes) else node.value.encode("utf-8", "replace")):
            self._add(node, "the string 'allow_pickle' is not allowed", _PICKLE_HINT)

    def _check_pickle_arguments(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        for keyword in node.keywords:
            if keyword.arg == "allow_pickle" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                self._add(keyword.value, "allow_pickle must stay False", _PICKLE_HINT)
        if name in PICKLE_LOADERS:
            if any(keyword.arg is None for keyword in node.keywords):
                self._add(node, f"{name}() with ** keyword unpacking is not allowed",
                          "pass the loader's arguments by name (allow_pickle cannot be set)")
            if len(node.args) > PICKLE_LOADERS[name] or any(isinstance(a, ast.Starred) for a in node.args):
                self._add(node, f"{name}() with its allow_pickle argument given by position is not allowed",
                          "pass only the file (and mmap_mode by name)")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        self.called.add(id(func))
        if isinstance(func, ast.Name) and func.id in REFLECTION_CALLS and len(node.args) >= 2:
            name = node.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self._add(node, f"{func.id}() with a computed attribute name is not allowed",
                          "use a dict lookup or a literal attribute name")
            elif name.value.startswith("__") or name.value in FORBIDDEN_ATTRIBUTES | FORBIDDEN_MODULE_ATTRIBUTES:
                self._add(node, f"{func.id}() on '{name.value}' is not allowed",
                          "dunder and interpreter-internal attributes are off limits")
        self._check_pickle_arguments(node)
        self.generic_visit(node)
