"""Closed-division conformance: the entry's shipped weights, under the optimization kit's transformations, are the
baseline's model, and the outputs the harness times are what those weights compute.

Static half (`tito submit --validate-only` and the benchmark): `check_folder` -> Problems naming file, key and fix.
Run-time half (the harness, in a trusted process that runs no submission code): `reference_outputs` runs the
shipped weights with tinytorch's reference model and bounds what float32 reordering explains (`bounds`);
`conformance_record` compares the timed outputs with it; `is_refused` says whether the result must be refused;
`check_run` does both for one event and never raises; `reference_model` is the model for other checks (the
generation judge, competition/conformance/generation.py).
Storage forms: `forms`; architectures and widths: `architecture`; safe .npz reading: `npz`.
"""

from competition.conformance.runtime import (ConformanceError, Reference, check_run, conformance_record,
                                             failed_record, is_refused, reference_model, reference_outputs,
                                             reference_outputs_from_state)
from competition.conformance.static import check_folder

__all__ = ["ConformanceError", "Reference", "check_folder", "check_run", "conformance_record", "failed_record",
           "is_refused", "reference_model", "reference_outputs", "reference_outputs_from_state"]
