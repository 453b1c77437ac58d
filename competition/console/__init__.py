"""Terminal output for people: one-line verdicts, results tables that fit 80 columns, progress displays.

Pure rendering: every function reads a result dict (competition/schemas/result.schema.json) and returns rich
renderables or text; nothing here measures or scores.
"""

from competition.console.progress import ProgressDisplay, Reporter
from competition.console.table import results_table
from competition.console.verdict import tie_reason, verdict_line

__all__ = ["ProgressDisplay", "Reporter", "results_table", "tie_reason", "verdict_line"]
