"""RecomputeTally: what a background recompute has done so far, read from its output lines.

The monitor runs ``hadrosaur recompute ... --jsonl``, which prints one JSON
object per resource as it ends (the keys of ``hadrosaur ls --json``). Each
such line moves the tally on; anything else on its standard output (what the
user's module prints while it is imported) is not a resource and counts for
nothing. The tally is a frozen value, so the reading thread can hand each
state to the UI in a message without sharing anything mutable.

Example:
    >>> tally = RecomputeTally("retry", 230).with_line('{"ident": "a", "status": "error"}')
    >>> tally.describe()
    'retrying 1/230 · 1 failed again'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Literal

from textual.notifications import SeverityLevel

from hadrosaur.resource import COMPLETED, ERROR, INTERRUPTED

__all__ = ("RecomputeTally", "Verb")

#: "retry" (R: the errors of a view), or "recompute" (r: one resource, maybe completed).
Verb = Literal["retry", "recompute"]

_WORDS = {
    "retry": ("retrying", "retried", "failed again"),
    "recompute": ("recomputing", "recomputed", "failed"),
}


@dataclass(frozen=True)
class RecomputeTally:
    """Counts of a recompute of ``total`` resources; ``state`` says whether it still runs."""

    verb: Verb
    total: int
    done: int = 0
    completed: int = 0
    failed: int = 0
    interrupted: int = 0
    #: "running", "stopping" (the user asked it to stop), "stopped" or "finished".
    state: Literal["running", "stopping", "stopped", "finished"] = "running"
    #: Why the child could not do its work (a function that cannot be loaded...), or "".
    problem: str = ""

    def with_line(self, line: str) -> RecomputeTally:
        """The tally after one line of output; unchanged if the line is not a resource's."""
        try:
            value = json.loads(line)
        except ValueError:
            return self
        if not isinstance(value, dict) or not isinstance(value.get("ident"), str):
            return self
        status = value.get("status")
        return replace(
            self,
            done=self.done + 1,
            completed=self.completed + (status == COMPLETED),
            failed=self.failed + (status == ERROR),
            interrupted=self.interrupted + (status == INTERRUPTED),
        )

    @property
    def running(self) -> bool:
        return self.state in ("running", "stopping")

    def headline(self, collection: str) -> tuple[str, SeverityLevel]:
        """The title and severity of the notification at its end."""
        what = f"{self.verb.capitalize()} of {self.total:,} in {collection}"
        if self.problem:
            return f"{what} could not run", "error"
        if self.state == "stopped":
            return f"{what} stopped", "information"
        if self.failed or self.interrupted:
            return f"{what} finished, not all completed", "warning"
        return f"{what} finished", "information"

    def describe(self) -> str:
        """One line for the status line: 'retrying 17/230 · 3 failed again'."""
        doing, did, failed = _WORDS[self.verb]
        if self.problem:
            return f"{self.verb} failed: {self.problem}"
        if self.state == "finished":
            parts = [f"{did} {self.done:,}", f"{self.completed:,} completed"]
        elif self.state == "stopped":
            parts = [f"{self.verb} stopped after {self.done:,}/{self.total:,}"]
            parts.append(f"{self.completed:,} completed")
        else:
            parts = [f"{doing} {self.done:,}/{self.total:,}"]
        if self.failed:
            parts.append(f"{self.failed:,} {failed}")
        if self.interrupted:
            parts.append(f"{self.interrupted:,} interrupted")
        if self.state == "stopping":
            parts.append("stopping…")
        return " · ".join(parts)
