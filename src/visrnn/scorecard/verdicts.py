"""The scorecard's columns and verdicts, and how a check's outcome becomes a verdict.

- ``reproduced`` / ``not reproduced``: the check passed / failed, and the run was set up as
  the paper's experiment in every respect the claim depends on;
- ``not comparable``: the run's preset differs from the paper's in such a respect (corpus
  size or source, split, model grid, epochs, n list, oracle models); the check is still
  computed and the note says whether it would pass at this scale and what differs;
- ``not run``: the run has no table (or no rows) to check the claim with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

SCORECARD_COLUMNS = (
    "id",
    "section",
    "claim",
    "paper_value",
    "run_value",
    "check",
    "verdict",
    "note",
)
REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE, NOT_RUN = (
    "reproduced",
    "not reproduced",
    "not comparable",
    "not run",
)
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE, NOT_RUN)


@dataclass(frozen=True)
class Outcome:
    """What a claim's check found: the run's value, the check, whether it passed, and what
    of the preset the claim depends on differs from the paper's."""

    run_value: str
    check: str
    passed: bool
    differences: Sequence[str] = ()
    note: str = ""


#: How a claim turns its check's outcome into (verdict, note): ``verdict`` unless the claim
#: names another rule.
VerdictRule = Callable[[bool, Sequence[str]], tuple[str, str]]


def verdict(passed: bool, differences: Sequence[str]) -> tuple[str, str]:
    """The verdict of a computed check, and a note saying what differs from the paper: any
    difference in what the claim depends on makes it ``not comparable``."""
    if differences:
        outcome = "passes" if passed else "fails"
        return NOT_COMPARABLE, (
            f"preset differs from the paper's: {'; '.join(differences)}; "
            f"at this scale the check {outcome}"
        )
    return (REPRODUCED if passed else NOT_REPRODUCED), ""
