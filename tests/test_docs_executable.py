"""Executable docs: every fenced ```bash / ```sh / ```python block of README.md and docs/students.md runs, in the
order the page shows it, in a fresh clone with a fresh virtual environment, as one shell session per page (so `cd`,
an activated venv and variables carry over from block to block, as they do for a reader). A Python block runs as
`python <file>` from the clone, with the venv active. The documented path cannot break without this test failing.

Marker convention: a block directly preceded by the line `<!-- docs-test: skip (REASON) -->` is not run; the
reason is required. None is needed today; keep it that way where possible.

A few commands run in a cheaper form that does the same thing; each substitution is listed in SUBSTITUTIONS with
what proves the equivalence, and the proof is checked in the same session:

- `python3[.11] -m venv DIR` -> `docs_venv DIR`: a venv of this interpreter whose site-packages name the test
  environment's (a .pth file), and `pip install -e .` / `pip install -e ".[test]"` ->
  `python -m pip install --no-deps --no-build-isolation -e .`: no download. Proof: `pip check` passes in the new
  venv (every requirement of the project, test extras included, is installed there) and `competition` and
  `tinytorch` import from the clone (`python -I`, so not merely from the current directory).
- `python -m pytest` (the README's test command) -> `python -m pytest --collect-only -q`: the suite collects in the
  fresh clone; running it is what `.ci/run` does with exactly this command (checked: its last line).
- `tito benchmark run` without `--quick` -> `... --budget-scale 0.1`: the full protocol (not a smoke run; the
  results are stored by `leaderboard add`) with a tenth of the rounds and timing budget, recorded in the result's
  `config.budget_scale`. The set-up's `--all-events` baseline run -> `--quick` (the same code on every event with
  smoke budgets; the first hour runs the full protocol on its entry).
- `git clone https://github.com/<you>/tinymlperf` -> a clone of this working tree (its tracked and untracked,
  not ignored files), through a bare repository that plays the fork on GitHub (`git push` goes there).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/students.md")
LANGUAGES = {"bash": "shell", "sh": "shell", "shell": "shell", "python": "python"}
SKIP = re.compile(r"^<!-- docs-test: skip \((?P<reason>[^)]+)\) -->$")
FENCE = re.compile(r"^```(?P<info>\S*)\s*$")
BUDGET_SCALE = "0.1"
TIMEOUT_S = 1500


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    text: str


def blocks(page: str) -> list[Block]:
    """The runnable fenced blocks of a page, in order (skipped ones left out: see the marker convention)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match or not match.group("info"):
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        language = LANGUAGES.get(match.group("info"))
        skipped = index > 0 and SKIP.match(lines[index - 1].strip())
        if language and not skipped:
            found.append(Block(page, index + 1, language, "\n".join(lines[index + 1:end]) + "\n"))
        index = end + 1
    return found


# (pattern, replacement) applied to shell lines; see the module docstring for what proves each one.
SUBSTITUTIONS = [
    (re.compile(r"\bpython3(?:\.11)? -m venv (\S+)"), r"docs_venv \1"),
    (re.compile(r"\bpip install -e (?:\.|\"\.\[test\]\")"),
     "python -m pip install -q --no-deps --no-build-isolation -e . && python -m pip check && python -I -c "
     "'import competition, tinytorch, os; assert all(m.__file__.startswith(os.getcwd()) for m in "
     "(competition, tinytorch)), competition.__file__'"),
    (re.compile(r"\bpython -m pytest$"), "python -m pytest --collect-only -q"),
    (re.compile(r"https://github\.com/<you>/tinymlperf"), "{origin}"),
]
# A venv that sees the packages of the environment running this test (a .pth naming its site-packages), without a
# pip of its own (the environment's pip and setuptools build the editable install offline).
PREAMBLE = """set -eo pipefail
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
docs_venv() {{
  {python} -m venv --without-pip "$1"
  "$1/bin/python" -c 'import site, sys; open(site.getsitepackages()[0] + "/zz_docs_test.pth", "w")'\
'.write(sys.argv[1] + chr(10))' {site}
}}
"""


def shell_line(line: str) -> str:
    """One documented shell line in the form this test runs it."""
    for pattern, replacement in SUBSTITUTIONS:
        line = pattern.sub(replacement, line)
    code = line.split("#", 1)[0] if " #" in line else line
    if re.search(r"\btito benchmark run\b", code) and "--quick" not in code:
        baseline_setup = "--all-events --submission submissions/baseline" in code
        extra = "--quick" if baseline_setup else f"--budget-scale {BUDGET_SCALE}"
        line = re.sub(r"(\btito benchmark run\b[^#&|;]*?)(\s*(?:#.*)?)$", rf"\1 {extra}\2", line, count=1)
    return line


def session(page: str, origin: Path, scratch: Path) -> str:
    """The bash script that runs every block of `page` in order."""
    import sysconfig

    parts = [PREAMBLE.format(python=shlex.quote(sys.executable), site=shlex.quote(sysconfig.get_paths()["purelib"]))]
    for number, block in enumerate(blocks(page), 1):
        parts.append(f"echo '=== {page}:{block.line} ({block.language} block {number})' >&2")
        if block.language == "python":
            source = scratch / f"{Path(page).stem}-{block.line}.py"
            source.write_text(block.text, encoding="utf-8")
            parts.append(f"python {shlex.quote(str(source))}")
        else:
            parts.append("\n".join(shell_line(line) for line in block.text.splitlines()).replace(
                "{origin}", shlex.quote(str(origin))))
    return "\n".join(parts) + "\n"


def working_tree_origin(tmp: Path) -> Path:
    """A bare repository holding this working tree (tracked and untracked, not ignored files) on branch main."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    tree = tmp / "tree"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=tree, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tree, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "the working tree under test"], cwd=tree, check=True, env=git_env())
    origin = tmp / "fork" / "tinymlperf.git"  # cloned into ./tinymlperf, as the fork on GitHub would be
    subprocess.run(["git", "clone", "-q", "--bare", str(tree), str(origin)], check=True)
    shutil.rmtree(tree)
    return origin


def git_env() -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org",
            "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org"}


def test_blocks_are_found_and_the_substitutions_hold():
    readme = blocks("README.md")
    assert [b.language for b in readme][:3] == ["shell", "shell", "shell"] and any(
        b.language == "python" for b in readme)
    setup = shell_line("python3 -m venv .venv && . .venv/bin/activate && pip install -e . && "
                       "tito benchmark run --all-events --submission submissions/baseline")
    assert setup.startswith("docs_venv .venv && ") and "pip check" in setup and setup.endswith("--quick")
    full = shell_line("tito benchmark run --event e --submission s --out .tito/results  # ~1 min")
    assert full == "tito benchmark run --event e --submission s --out .tito/results --budget-scale 0.1  # ~1 min"
    assert shell_line("tito benchmark run --event e --quick") == "tito benchmark run --event e --quick"
    # the README's test command is what CI runs in full
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "python -m pytest" and any(b.text.rstrip().endswith("python -m pytest") for b in readme)


@dataclass
class Run:
    """One page's session, running."""

    page: str
    clone: Path
    entry: str
    process: subprocess.Popen
    log: Path


def start(page: str, tmp: Path) -> Run:
    """Start `page`'s session in a fresh clone of its own (its own fork, home and venv)."""
    tmp.mkdir()
    origin = working_tree_origin(tmp)
    home, workdir = tmp / "home", tmp / "work"
    home.mkdir()
    workdir.mkdir()
    clone = workdir / "tinymlperf"
    if page == "README.md":  # the README starts inside a clone; students.md clones first
        subprocess.run(["git", "clone", "-q", str(origin), "tinymlperf"], cwd=workdir, check=True)
    env = {**git_env(), "HOME": str(home), "COLUMNS": "80", "VIRTUAL_ENV": "",
           "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                   if not p.startswith(str(Path(sys.executable).parent)))}
    env.pop("PYTHONPATH", None)
    log = tmp / "session.log"
    with log.open("w") as out:
        process = subprocess.Popen(["bash", "-c", session(page, origin, tmp)], stdout=out, stderr=subprocess.STDOUT,
                                   cwd=clone if page == "README.md" else workdir, env=env)
    return Run(page, clone, "ada-lovelace" if page == "README.md" else "ada", process, log)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_block_of_the_page_runs_in_a_fresh_clone(page, tmp_path):
    """One page after the other (run at once, two jailed runs on a 2-core runner slow each other's turns)."""
    from competition.sandbox import jail

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    state = jail.status()
    if not state.available:  # the documented path ends in NOT RANKABLE (exit 3) without it, as the README says
        pytest.skip(f"the jail does not work here: {state.reason}")
    run = start(page, tmp_path / Path(page).stem)
    try:
        run.process.wait(timeout=TIMEOUT_S)
    finally:
        if run.process.poll() is None:
            run.process.kill()
    check_outcome(run)


def check_outcome(run: Run) -> None:
    """The session ended well, on a prepared pull-request branch with an optimized, benchmarked entry."""
    output = run.log.read_text(errors="replace")
    where = [line for line in output.splitlines() if line.startswith("=== ")]
    assert run.process.returncode == 0, (f"{run.page}: failed in {where[-1] if where else 'setup'}\n"
                                         f"--- output (end)\n{output[-8000:]}")
    branch = subprocess.run(["git", "branch", "--show-current"], cwd=run.clone, capture_output=True, text=True)
    assert branch.stdout.strip() == f"entry/{run.entry}"
    committed = subprocess.run(["git", "show", "--stat", "--format=", "HEAD"], cwd=run.clone, capture_output=True,
                               text=True).stdout
    assert f"submissions/{run.entry}/mnist_cnn.npz" in committed  # the optimized weights are what is committed
    import numpy as np

    with np.load(run.clone / "submissions" / run.entry / "mnist_cnn.npz") as weights:
        assert any(key.endswith("weight_scale") for key in weights.files)  # quantized by the documented code
    stored = list((run.clone / ".tito" / "store").rglob("*.json"))
    assert any(run.entry in path.name for path in stored)  # benchmarked, on the local board


def test_the_readme_is_short_and_every_relative_link_resolves():
    """Issue 18.8: what it is, the two commands, the first hour and links, within 150 lines; measurements live in
    docs/ (the links must lead somewhere)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for page in ("README.md", "docs/students.md"):
        body = (ROOT / page).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", body):
            assert (ROOT / page).parent.joinpath(target).exists(), f"{page}: broken link {target}"
