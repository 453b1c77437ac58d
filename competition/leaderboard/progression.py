"""Record progression: the best official speedup that beat the baseline, per event and division over time (all
counted runs, public split)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from competition.leaderboard import fields
from competition.leaderboard.fields import Result


@dataclass(frozen=True)
class Record:
    """A new record in `event_name`: set at `time` (ISO UTC) by `submission` with `speedup`."""

    event_name: str
    time: str
    speedup: float
    submission: str
    result_id: str


def record_progression(results: list[Result]) -> dict[tuple[str, str], list[Record]]:
    """{(event id, division): records in time order}, from official reference-runner runs that qualified."""
    timeline: dict[tuple[str, str], list[Record]] = defaultdict(list)
    eligible = [r for r in results if fields.is_official(r) and r["runner"]["class"] == "reference"
                and fields.visibility(r) == "public" and r["submission"]["name"] != "baseline"
                and fields.not_qualified_reason(r) is None
                and (r["scores"]["speedup"] or {}).get("verdict") == "faster"]
    for result in sorted(eligible, key=lambda r: (r["finished_at"], r["result_id"])):
        records = timeline[(result["event"]["id"], result["submission"]["division"])]
        value = fields.speedup(result)
        if not records or value > records[-1].speedup:
            records.append(Record(result["event"]["name"], result["finished_at"], value,
                                  result["submission"]["name"], result["result_id"]))
    return dict(sorted(timeline.items()))
