"""Treat a downloaded results artifact as hostile: bounded, flat, JSON only, schema-valid, bound to one PR head SHA.

A pull_request workflow runs the PR's own copy of the workflow file, so anything in its artifact may be forged. This
module is the only reader of such artifacts; it never extracts anything to disk and never follows a link.
"""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from competition.problems import Problem
from competition.results import result_validator
from tinytorch.atomic import write_atomic

METADATA_NAME = "metadata.json"
MAX_FILES = 32
MAX_FILE_BYTES = 512 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024
RUNNER_CLASSES = ("local", "reference", "edge")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}\.json$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class ArtifactRejected(Exception):
    """The artifact failed at least one check; `problems` lists every finding."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"artifact {source} rejected:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Artifact:
    """A checked artifact: its metadata and its result dicts (sorted by result_id)."""

    pr_number: int
    head_sha: str
    runner_class: str
    results: list[dict[str, Any]]


def metadata_for(pr_number: int, head_sha: str, runner_class: str) -> dict[str, Any]:
    """The metadata.json a workflow writes next to its results (checked again by `check_artifact`)."""
    problems = _metadata_problems({"pr_number": pr_number, "head_sha": head_sha, "runner_class": runner_class})
    if problems:
        raise ValueError("; ".join(str(p) for p in problems))
    return {"pr_number": pr_number, "head_sha": head_sha, "runner_class": runner_class}


def write_metadata(directory: Path | str, pr_number: int, head_sha: str, runner_class: str) -> Path:
    """Write metadata.json into `directory` atomically (temp file + rename)."""
    target = Path(directory) / METADATA_NAME
    write_atomic(target, json.dumps(metadata_for(pr_number, head_sha, runner_class), indent=2) + "\n")
    return target


def _read_directory(root: Path, problems: list[Problem], max_files: int) -> list[tuple[str, bytes]]:
    entries = []
    with os.scandir(root) as it:
        listing = sorted(it, key=lambda e: e.name)
    if len(listing) > max_files:
        problems.append(Problem(str(root), f"holds {len(listing)} entries, more than {max_files}",
                                "upload only the result JSON files and metadata.json"))
        return []
    for entry in listing:
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            kind = "symbolic link" if stat.S_ISLNK(mode) else "directory" if stat.S_ISDIR(mode) else "special file"
            problems.append(Problem(entry.name, f"is a {kind}; links and folders could point outside the artifact",
                                    "the artifact must be a flat folder of regular files"))
            continue
        fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            entries.append((entry.name, handle.read(MAX_FILE_BYTES + 1)))
    return entries


def _read_zip(path: Path, problems: list[Problem], max_files: int) -> list[tuple[str, bytes]]:
    entries = []
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > max_files:
            problems.append(Problem(str(path), f"holds {len(infos)} entries, more than {max_files}",
                                    "upload only the result JSON files and metadata.json"))
            return []
        for info in infos:
            name = info.filename
            if "/" in name or "\\" in name or name.startswith(".") or ".." in name:
                problems.append(Problem(name, "is not a plain file name (path traversal or nested folder)",
                                        "the artifact must be a flat folder of regular files"))
                continue
            with archive.open(info) as handle:
                entries.append((name, handle.read(MAX_FILE_BYTES + 1)))
    return entries


def _metadata_problems(meta: Any) -> list[Problem]:
    if not isinstance(meta, dict) or set(meta) != {"pr_number", "head_sha", "runner_class"}:
        return [Problem(METADATA_NAME, "must be an object with exactly pr_number, head_sha, runner_class",
                        "write it with `tito pr metadata`")]
    problems = []
    pr = meta["pr_number"]
    if not isinstance(pr, int) or isinstance(pr, bool) or pr < 1:
        problems.append(Problem(METADATA_NAME, f"pr_number {pr!r} is not a positive integer", "use the PR number",
                                field="pr_number"))
    if not isinstance(meta["head_sha"], str) or not _SHA.match(meta["head_sha"]):
        problems.append(Problem(METADATA_NAME, "head_sha is not 40 lowercase hex digits", "use the PR head SHA",
                                field="head_sha"))
    if meta["runner_class"] not in RUNNER_CLASSES:
        problems.append(Problem(METADATA_NAME, f"runner_class {meta['runner_class']!r} is unknown",
                                f"use one of {', '.join(RUNNER_CLASSES)}", field="runner_class"))
    return problems


def _parse(name: str, data: bytes, problems: list[Problem]) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        problems.append(Problem(name, f"is not valid UTF-8 JSON ({type(err).__name__})", "upload harness output"))
        return None


def check_result(name: str, result: Any, runner_class: str | None, problems: list[Problem]) -> bool:
    """Schema-check one result (and its runner class when given), appending problems; True if it passed. The
    compiled check answers yes fast; jsonschema gives the verdict (and names the field) whenever it says no."""
    from competition.leaderboard.schema_check import conforms

    errors = [] if conforms(result) else sorted(result_validator().iter_errors(result),
                                                key=lambda e: list(e.absolute_path))
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(Problem(name, f"does not match result.schema.json: {error.message[:200]}",
                                "upload files written by `tito benchmark run` unchanged", field=where))
    if errors:
        return False
    if runner_class is not None and result["runner"]["class"] != runner_class:
        problems.append(Problem(name, f"runner class {result['runner']['class']!r} differs from the metadata's "
                                f"{runner_class!r}", "upload one runner class per artifact", field="runner.class"))
        return False
    return True


def read_documents(source: Path | str, submissions: int = 1) -> tuple[dict[str, Any], list[Problem]]:
    """The JSON documents of an artifact folder or .zip by file name (None where unparsable), and every problem:
    bounded counts and sizes (per submission the artifact may hold), flat regular files named *.json, valid UTF-8
    JSON. Nothing is extracted."""
    max_files, max_total = MAX_FILES * submissions, MAX_TOTAL_BYTES * submissions
    source = Path(source)
    problems: list[Problem] = []
    if source.is_symlink() or not (source.is_dir() or zipfile.is_zipfile(source)):
        return {}, [Problem(str(source), "is neither a folder nor a zip archive", "pass the downloaded artifact")]
    read = _read_directory if source.is_dir() else _read_zip
    entries = read(source, problems, max_files)
    total = sum(len(data) for _, data in entries)
    if total > max_total:
        problems.append(Problem(str(source), f"holds more than {max_total} bytes", "upload only results"))
    documents: dict[str, Any] = {}
    for name, data in entries:
        if not _FILE_NAME.match(name):
            problems.append(Problem(name, "is not an allowed file name (only *.json plus metadata.json)",
                                    "upload only the result JSON files and metadata.json"))
        elif len(data) > MAX_FILE_BYTES:
            problems.append(Problem(name, f"is larger than {MAX_FILE_BYTES} bytes", "upload harness output only"))
        else:
            documents[name] = _parse(name, data, problems)
    return documents, problems


def check_artifact(source: Path | str, expected_sha: str | None, expected_pr: int | None = None,
                   runner_classes: frozenset[str] | None = None, harness_commit: str | None = None) -> Artifact:
    """Read and check an artifact folder or .zip; raise ArtifactRejected listing every problem found.

    `expected_sha` (and `expected_pr` when known) come from the trusted workflow_run event, never from the artifact;
    None means the run that wrote it is trusted to name them (an official run of main's workflow). `runner_classes`
    are the classes that run may claim; `harness_commit`, when given, must be every result's harness.git_commit.
    """
    source = Path(source)
    if source.is_symlink() or not (source.is_dir() or zipfile.is_zipfile(source)):
        raise ArtifactRejected(str(source), [Problem(str(source), "is neither a folder nor a zip archive",
                                                     "pass the downloaded artifact")])
    documents, problems = read_documents(source)
    meta = documents.pop(METADATA_NAME, None)
    runner_class = None
    if meta is None and not any(p.file == METADATA_NAME for p in problems):
        problems.append(Problem(METADATA_NAME, "is missing", "write it with `tito pr metadata`"))
    elif meta is not None:
        meta_problems = _metadata_problems(meta)
        problems.extend(meta_problems)
        if not meta_problems:
            runner_class = meta["runner_class"]
            if runner_classes is not None and runner_class not in runner_classes:
                problems.append(Problem(METADATA_NAME, f"runner_class {runner_class!r} cannot come from this "
                                        f"workflow run (allowed: {', '.join(sorted(runner_classes)) or 'none'})",
                                        "official results come only from the maintainers' benchmark workflow",
                                        field="runner_class"))
            if expected_sha is not None and meta["head_sha"] != expected_sha:
                problems.append(Problem(METADATA_NAME, f"head_sha {meta['head_sha']} is not the SHA this workflow "
                                        f"run tested ({expected_sha})", "re-run the workflow", field="head_sha"))
            if expected_pr is not None and meta["pr_number"] != expected_pr:
                problems.append(Problem(METADATA_NAME, f"pr_number {meta['pr_number']} is not the run's PR "
                                        f"#{expected_pr}", "re-run the workflow", field="pr_number"))
    results = [doc for name, doc in sorted(documents.items())
               if doc is not None and check_result(name, doc, runner_class, problems)]
    if harness_commit is not None:
        for result in results:
            if result["harness"]["git_commit"] != harness_commit:
                problems.append(Problem(result["result_id"], f"harness commit {result['harness']['git_commit']} is "
                                        f"not the commit the run checked out ({harness_commit})",
                                        "re-run the benchmark workflow", field="harness.git_commit"))
    if len({r["submission"]["name"] for r in results}) > 1:
        problems.append(Problem(str(source), "results belong to more than one submission", "one submission per PR"))
    if problems:
        raise ArtifactRejected(str(source), problems)
    results.sort(key=lambda r: r["result_id"])
    return Artifact(pr_number=meta["pr_number"], head_sha=meta["head_sha"], runner_class=meta["runner_class"],
                    results=results)
