"""Error groups: the index keeps errors grouped by signature, exact as they come and go.

Every error's record holds its signature (hadrosaur.signature; damage has
one too). A resource is a member of the group its record names, and the
group keys (keys.py: ``g/ n/ G/ t/ h/``) change in the same WriteBatch as
the record, through :class:`GroupChanges`: the writer moves a resource from
its old record's group to its new one (a recompute, a success after an
error, another cause, a removed directory, a planned resource whose
directory went), and a rebuild adds every member once. So a reader sees
counts, members and first/last seen that agree with the records at every
moment, and lists the groups in O(groups), a group's members in O(k).

Why per-member keys for times (``t/SIG/TIME/IDENT``) and not a stored
first/last: a minimum cannot be updated when its member leaves without
knowing the next one; sorted keys give both ends by one seek each, exactly.

Example:
    >>> from hadrosaur._index.kv import MemoryDB
    >>> from hadrosaur._records import damaged_entry
    >>> db, changes = MemoryDB(), GroupChanges()
    >>> with db.write_batch() as wb:
    ...     changes.join(wb, damaged_entry("r1", "status: symlink refused", 1, 60_000))
    ...     changes.write(wb, db)
    >>> [(g.count, g.examples, g.last_seen) for g in error_groups(db, 0, 10)]
    [(1, ('r1',), 60000)]
"""

from __future__ import annotations

from collections import Counter
from itertools import islice

from .._records import cause_of
from ..entries import Entry, ErrorGroup
from ..signature import ErrorSignature
from .codec import IndexCorrupt, decode_group_header, encode_group_header, number, text
from .keys import (
    COUNT_OF_GROUP_PREFIX,
    group_count_key,
    group_header_key,
    group_member_key,
    group_members_prefix,
    group_minute_key,
    group_minutes_prefix,
    group_time_key,
    group_times_prefix,
)
from .kv import KeyValueStore, WriteBatch

__all__ = (
    "EXAMPLES",
    "GroupChanges",
    "error_groups",
    "error_time",
    "group_idents",
    "signatures_starting",
)

#: Idents an ErrorGroup shows as examples.
EXAMPLES = 3
#: Times a t/ key can hold (15 digits); others (a meta.json's nonsense) are no time.
_TIME_LIMIT = 10**15
_TIME_DIGITS = 15


def error_time(entry: Entry) -> int | None:
    """When an error happened, for its group: its end time, else its start time.

    None when it has neither (damage found before any attempt) or a time no
    key can sort (negative, or past year 33658): such a member counts, but
    is in no first/last seen and no minute.
    """
    ms = entry.end_time if entry.end_time is not None else entry.start_time
    if ms is None or not 0 <= ms < _TIME_LIMIT:
        return None
    return ms


class GroupChanges:
    """The group keys of one WriteBatch: members moved at once, counters written at the end.

    A member's own keys (``G/``, ``t/``) are put or deleted at once; the
    counters (``n/``, ``h/``) are summed here and written by :meth:`write`,
    added to what the store holds, so that many changes to one group cost one
    write. A group's header is put with its first member and deleted with
    its last.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.minutes: Counter[tuple[str, int]] = Counter()
        self.causes: dict[str, ErrorSignature] = {}

    def move(self, wb: WriteBatch, old: Entry | None, new: Entry | None) -> None:
        """A resource's record goes from ``old`` to ``new`` (None: it had none, or has none)."""
        if old is not None and new is not None:
            if old.signature == new.signature and error_time(old) == error_time(new):
                return  # same group, same time: nothing to move
        if old is not None:
            self.leave(wb, old)
        if new is not None:
            self.join(wb, new)

    def leave(self, wb: WriteBatch, entry: Entry) -> None:
        """``entry`` (as the index held it) is no longer its group's member."""
        signature = entry.signature
        if not signature:
            return
        wb.delete(group_member_key(signature, entry.ident))
        ms = error_time(entry)
        if ms is not None:
            wb.delete(group_time_key(signature, ms, entry.ident))
            self.minutes[signature, ms // 60_000] -= 1
        self.counts[signature] -= 1

    def join(self, wb: WriteBatch, entry: Entry) -> None:
        """``entry`` (just read from its files) becomes a member of its group.

        Deletes of the same keys earlier in the batch (a member leaving and
        joining again with another time) are overridden: a batch applies in order.
        """
        signature = entry.signature
        if not signature:
            return
        cause = cause_of(entry)
        if cause is not None:
            self.causes.setdefault(signature, cause)
        wb.put(group_member_key(signature, entry.ident), b"")
        ms = error_time(entry)
        if ms is not None:
            wb.put(group_time_key(signature, ms, entry.ident), b"")
            self.minutes[signature, ms // 60_000] += 1
        self.counts[signature] += 1

    def write(self, wb: WriteBatch, store: KeyValueStore) -> None:
        """Add the summed counts to the stored ones; headers of new and emptied groups.

        A count that would go below zero means the index did not hold what
        its records say: :class:`IndexCorrupt`, so that it is rebuilt.
        """
        for signature, delta in self.counts.items():
            if not delta:
                continue
            before = number(store.get(group_count_key(signature)))
            after = _added(before, delta, signature)
            if after:
                wb.put(group_count_key(signature), b"%d" % after)
                if not before:
                    cause = self.causes.get(signature) or ErrorSignature(signature, "", "", "")
                    wb.put(group_header_key(signature), encode_group_header(cause))
            else:
                wb.delete(group_count_key(signature))
                wb.delete(group_header_key(signature))
        for (signature, minute), delta in self.minutes.items():
            if not delta:
                continue
            key = group_minute_key(signature, minute)
            after = _added(number(store.get(key)), delta, signature)
            if after:
                wb.put(key, b"%d" % after)
            else:
                wb.delete(key)
        self.counts.clear()
        self.minutes.clear()


def _added(before: int, delta: int, signature: str) -> int:
    after = before + delta
    if after < 0:
        raise IndexCorrupt(f"the error group {signature} would count {after} members")
    return after


def error_groups(store: KeyValueStore, first_minute: int, last_minute: int) -> list[ErrorGroup]:
    """Every group, largest first (then by signature), with its minutes in the range given.

    One pass over ``n/`` and a few seeks per group: O(groups), whatever the
    number of resources.
    """
    groups = []
    for key, raw in store.iterator(prefix=COUNT_OF_GROUP_PREFIX):
        signature = text(key[len(COUNT_OF_GROUP_PREFIX) :])
        cause = decode_group_header(signature, store.get(group_header_key(signature)))
        members = group_members_prefix(signature)
        examples = tuple(
            text(k[len(members) :])
            for k in islice(store.iterator(prefix=members, include_value=False), EXAMPLES)
        )
        times = group_times_prefix(signature)
        first = _time_of(next(store.iterator(prefix=times, include_value=False), None), times)
        last = _time_of(
            next(store.iterator(prefix=times, include_value=False, reverse=True), None), times
        )
        minutes = group_minutes_prefix(signature)
        per_minute = {
            number(k[len(minutes) :]): number(v)
            for k, v in store.iterator(
                start=group_minute_key(signature, max(0, first_minute)),
                stop=group_minute_key(signature, max(0, last_minute + 1)),
            )
        }
        groups.append(
            ErrorGroup(
                signature,
                cause.exception,
                cause.message,
                cause.frame,
                number(raw),
                examples,
                first,
                last,
                per_minute,
            )
        )
    groups.sort(key=lambda g: (-g.count, g.signature))
    return groups


def _time_of(key: bytes | None, prefix: bytes) -> int | None:
    if key is None:
        return None
    return number(key[len(prefix) : len(prefix) + _TIME_DIGITS])


def group_idents(store: KeyValueStore, signature: str) -> list[str]:
    """The members of a group, in ident order: O(k); [] for a signature with no group."""
    prefix = group_members_prefix(signature)
    return [text(k[len(prefix) :]) for k in store.iterator(prefix=prefix, include_value=False)]


def signatures_starting(store: KeyValueStore, prefix: str) -> list[str]:
    """The signatures of the groups that start with ``prefix``: one seek, O(matches)."""
    start = group_count_key(prefix)
    return [
        text(k[len(COUNT_OF_GROUP_PREFIX) :])
        for k in store.iterator(prefix=start, include_value=False)
    ]
