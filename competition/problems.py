"""One problem found in a submission: where it is, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A single validation finding. `field` is a dotted path, `line` a 1-based source line, either may be None."""

    file: str
    message: str
    hint: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message} (fix: {self.hint})"
