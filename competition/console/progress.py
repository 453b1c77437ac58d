"""Progress of long steps: event i/n, the current step, and round r/N with an ETA.

The harness reports through the `progress` callback of run_event. A `Reporter` accepts both forms:

    progress("timing interleaved rounds")                     # a free-text step (what run.py sends today)
    progress("round 3/20", stage="round", done=3, total=20)   # a structured update: bar and ETA

Free text of the form "<stage> <done>/<total>" (e.g. "round 3/20") is read as a structured update too.
On a terminal the display is a live rich panel; anywhere else (CI logs, pipes) it prints plain lines.
"""

from __future__ import annotations

import re
import time
from typing import Protocol

from rich.console import Console
from rich.table import Column
from rich.progress import (BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

COUNTED = re.compile(r"(?P<stage>[A-Za-z][\w -]*?)\s+(?P<done>\d+)\s*/\s*(?P<total>\d+)\s*$")
WIDTH = 80  # a plain progress line never wraps in an 80-column log
PLAIN_STEPS = 10  # plain mode prints a counted stage about this many times, not on every round


class CountColumn(ProgressColumn):
    """'3/20' when the step has a known total, nothing for free-text steps."""

    def render(self, task: Task) -> Text:
        return Text("" if task.total is None else f"{int(task.completed)}/{int(task.total)}")


class Reporter(Protocol):
    """What run_event's `progress` callback may be: a string, optionally with stage, done and total."""

    def __call__(self, message: str = "", *, stage: str | None = None, done: int | None = None,
                 total: int | None = None) -> None: ...


def parse_counted(message: str) -> tuple[str, int, int] | None:
    """("round", 3, 20) from "round 3/20"; None for messages without a trailing count."""
    match = COUNTED.search(message or "")
    if not match:
        return None
    return match["stage"].strip(), int(match["done"]), int(match["total"])


def eta_text(elapsed_s: float, done: int, total: int) -> str:
    """'ETA 0:12' from the pace so far; '' until one step is done."""
    if done <= 0 or total <= done:
        return ""
    seconds = int(round(elapsed_s / done * (total - done)))
    return f"ETA {seconds // 60}:{seconds % 60:02d}"


class ProgressDisplay:
    """A Reporter for one run of `total_events` events. Use as a context manager; call `.event(i, event_id)` when
    event i (1-based) starts, and pass the object itself as run_event's `progress`."""

    def __init__(self, total_events: int = 1, *, console: Console | None = None, enabled: bool = True) -> None:
        self.total_events = total_events
        self.console = console or Console(stderr=True, highlight=False)
        self.enabled = enabled
        self.label = ""
        self._event_prefix = ""
        self._stage: str | None = None
        self._stage_started = time.monotonic()
        self._last_plain_step = -1
        self._live: Progress | None = None
        self._step: TaskID | None = None
        self._events: TaskID | None = None

    # -- context -------------------------------------------------------------------------------------------------
    def __enter__(self) -> "ProgressDisplay":
        if self.enabled and self.console.is_terminal:
            description = TextColumn("{task.description}",
                                     table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1))
            self._live = Progress(SpinnerColumn(), description, BarColumn(bar_width=16),
                                  CountColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                                  TimeRemainingColumn(), console=self.console, transient=True)
            self._live.__enter__()
            self._events = self._live.add_task("events", total=self.total_events)
            self._step = self._live.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    # -- updates -------------------------------------------------------------------------------------------------
    def event(self, index: int, event_id: str) -> None:
        """Event `index` of total_events (1-based) starts."""
        self.label = f"event {index}/{self.total_events} {event_id}"
        self._event_prefix = f"{event_id}: "
        self._stage = None
        if self._live is not None:
            self._live.update(self._events, completed=index - 1, description=self.label)
        elif self.enabled:
            self._plain("starting")

    def event_done(self, index: int) -> None:
        """Event `index` finished."""
        if self._live is not None:
            self._live.update(self._events, completed=index)

    def __call__(self, message: str = "", *_: object, stage: str | None = None, done: int | None = None,
                 total: int | None = None, **__: object) -> None:
        if not self.enabled:
            return
        if done is None or total is None:
            counted = parse_counted(str(message))
            if counted:
                stage, done, total = counted
        message = str(message).removeprefix(self._event_prefix) if self._event_prefix else str(message)
        message = message or (f"{stage} {done}/{total}" if stage else "")
        if done is not None and total is not None:
            self._counted(stage or message, message, done, total)
        else:
            self._free(message)

    def _free(self, message: str) -> None:
        self._stage = None
        if self._live is not None:
            self._live.reset(self._step, total=None, description=message)
        else:
            self._plain(message)

    def _counted(self, stage: str, message: str, done: int, total: int) -> None:
        if stage != self._stage:
            self._stage, self._stage_started, self._last_plain_step = stage, time.monotonic(), -1
            if self._live is not None:
                self._live.reset(self._step, total=total, completed=0, description=stage)
        if self._live is not None:
            self._live.update(self._step, total=total, completed=done, description=message)
            return
        step = done * PLAIN_STEPS // max(total, 1)
        if step != self._last_plain_step or done >= total:
            self._last_plain_step = step
            eta = eta_text(time.monotonic() - self._stage_started, done, total)
            self._plain(message + (f", {eta}" if eta else ""))

    def _plain(self, message: str) -> None:
        """One line per update, cut to WIDTH columns (logs and pipes are read at 80)."""
        prefix = f"[{self.label}] " if self.label else ""
        line = f"{prefix}{message}"
        if len(line) > WIDTH:
            line = line[:WIDTH - 1] + "…"
        self.console.print(line, markup=False, soft_wrap=True)

