"""What readers get from a collection's index: entries, and the change feed.

These small immutable values are the read API that live monitors use: a
reader loads :class:`Entry` rows once, remembers the :class:`Cursor` it was
given, and from then on asks only for the :class:`Change` values after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .times import duration_ms

__all__ = ("Change", "ChangeBatch", "Cursor", "Entry", "ErrorGroup")


class Entry(NamedTuple):
    """One resource as the index lists it: the one row type of the library and the TUI.

    The index stores it (its ident in the key, the rest encoded once: see
    hadrosaur/_index/codec.py), the change log carries it, readers get it and
    the TUI's table keeps it as it is. A named tuple, so a million of them
    cost little to build and compare, and a row is unpacked like any tuple.

    Attributes:
        ident: the resource ident.
        status: completed, pending, interrupted, error or unavailable.
        start_time: start of the last attempt, epoch ms (None if never started).
        end_time: end of the last attempt, epoch ms (None while running).
        reason: for an error, its exception type and the first line of its message
            (``KeyError: 'weight'``; see hadrosaur.signature.error_headline), or what is
            damaged; else "".
        host: for a pending or interrupted resource, the host its meta.json names
            ("" when unknown, and for the other statuses): where it runs or ran.
        signature: for an error, the 10 hex digits naming its cause (see
            hadrosaur.signature; damage has one too, from its reason), computed once
            when the error is read from its files; else "".
    """

    ident: str
    status: str
    start_time: int | None = None
    end_time: int | None = None
    reason: str = ""
    host: str = ""
    signature: str = ""

    @property
    def duration_ms(self) -> int | None:
        """Milliseconds from start to end, or None while unknown."""
        return duration_ms(self.start_time, self.end_time)


@dataclass(frozen=True)
class Cursor:
    """A position in a collection's change log.

    ``epoch`` changes whenever the index is rebuilt, which invalidates every
    position in the old log; ``seq`` is the last sequence number seen.
    """

    epoch: str
    seq: int


@dataclass(frozen=True)
class Change:
    """One applied change: ``entry`` is the resource's new state, None if it was removed."""

    seq: int
    ident: str
    entry: Entry | None


@dataclass(frozen=True)
class ChangeBatch:
    """The answer to ``Project.changes``.

    Attributes:
        changes: the changes after the caller's cursor, oldest first.
        cursor: pass this to the next call.
        reload: True when the caller's cursor is unknown, too old (the log was
            trimmed past it), from before a rebuild, or a bulk change happened:
            the caller must reload every entry instead of applying ``changes``.
        more: True when more changes are waiting than this batch holds.
    """

    changes: tuple[Change, ...]
    cursor: Cursor
    reload: bool = False
    more: bool = False


@dataclass(frozen=True)
class ErrorGroup:
    """The errors of a collection that share a cause (one signature), as the index keeps them.

    Kept exact as errors come and go (a recompute, a success after an error,
    another cause, a removed directory, a rebuild): listing the groups costs
    O(number of groups), never a scan of the resources.

    Attributes:
        signature: 10 hex digits naming the cause (hadrosaur.signature.signature_of).
        exception: the exception type as the traceback printed it (``KeyError``);
            "" for a text that is not a traceback (a worker that died, damage).
        message: the message's template: what varies replaced (``'sample_<ident>'``).
        frame: ``file.py:function`` of the innermost frame of the user's code, or "".
        count: how many resources are in error with this cause now.
        examples: up to three of their idents, in ident order.
        first_seen, last_seen: the earliest and latest time one of them failed
            (epoch ms: its end time); None when none of them has a time.
        per_minute: failures per epoch minute over the minutes asked for
            (minutes without a failure are left out): a sparkline.

    Example:
        >>> g = ErrorGroup("1a2b3c4d5e", "KeyError", "'<ident>'", "p.py:f", 2, ("a", "b"), 1, 9)
        >>> g.count, g.examples[0]
        (2, 'a')
    """

    signature: str
    exception: str
    message: str
    frame: str
    count: int
    examples: tuple[str, ...]
    first_seen: int | None
    last_seen: int | None
    per_minute: dict[int, int] = field(default_factory=dict, hash=False)
