"""A download progress bar for tinytorch.data.cache's `progress(file, received, total)` hook."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn,
                           TransferSpeedColumn)

PLAIN_STEPS = 4  # plain mode: a line at 25 %, 50 %, 75 %, 100 %


class DownloadBar:
    """Context manager and progress hook: a rich bar per file on a terminal, a few plain lines elsewhere."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self._live: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._plain_step: dict[str, int] = {}

    def __enter__(self) -> "DownloadBar":
        if self.console.is_terminal:
            self._live = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                  TransferSpeedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                  console=self.console)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def __call__(self, file: str, received: int, total: int | None) -> None:
        if self._live is not None:
            if file not in self._tasks:
                self._tasks[file] = self._live.add_task(file, total=total)
            self._live.update(self._tasks[file], completed=received, total=total)
            return
        step = received * PLAIN_STEPS // total if total else 0
        if self._plain_step.get(file) != step:
            self._plain_step[file] = step
            size = f" of {total / 1e6:.1f} MB" if total else ""
            self.console.print(f"{file}: {received / 1e6:.1f} MB{size}", markup=False)
