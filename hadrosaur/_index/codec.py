"""How the index encodes its values, and what counts as damage.

A resource's record is ``status SEP start SEP end SEP reason SEP host SEP signature``
in UTF-8, SEP
being the ASCII unit separator, which names and reasons never contain. The
same bytes are the value of ``r/IDENT``, the rows a reader loads in bulk,
and (after ``IDENT SEP``) an entry of the change log: one encoder and one
decoder serve all three. Anything that does not decode is
:class:`IndexCorrupt`: the index is a cache, and a damaged one is rebuilt
rather than believed.

What is encoded and decoded is an :class:`~hadrosaur.entries.Entry`, the one
row type: the ident lives in the key (or before SEP in the log), so the
value holds the other fields.

Example:
    >>> decode_rows([(b"r1", encode_record(Entry("r1", "error", 1, 2, "KeyError: x")))])[0][:5]
    ('r1', 'error', 1, 2, 'KeyError: x')
    >>> decode_change(encode_change("r1", encode_record(Entry("r1", "completed", 1, 2))))[0]
    'r1'
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from ..display import one_line
from ..entries import Entry
from ..resource import COMPLETED, ERROR, INTERRUPTED, PENDING, UNAVAILABLE
from ..signature import ErrorSignature
from .kv import LevelDBError

__all__ = (
    "RELOAD_CHANGE",
    "STORED_STATUSES",
    "IndexCorrupt",
    "decode_change",
    "decode_group_header",
    "decode_record",
    "decode_rows",
    "encode_change",
    "encode_group_header",
    "encode_record",
    "encode_removal",
    "number",
    "text",
)

#: Statuses the index stores. Interrupted is recorded when a drain finds a pending
#: resource's lock free (see sweep.py), and stays until its next marker.
STORED_STATUSES = (COMPLETED, PENDING, INTERRUPTED, ERROR, UNAVAILABLE)
_STORED_SET = frozenset(STORED_STATUSES)
_SEP = "\x1f"
_SEP_BYTES = b"\x1f"
#: The status written to the change log for a bulk change (a plan): "reload".
_RELOAD_MARK = b"*"
#: The status written to the change log for a resource whose directory vanished.
_REMOVED_MARK = b"-"
#: The change-log entry of a bulk change: no ident, and the reload mark.
RELOAD_CHANGE = _SEP_BYTES + _RELOAD_MARK

#: Builds an Entry from a tuple of its fields without the call NamedTuple's __new__ makes
#: (half the cost, for a reader decoding a million rows).
_new_entry = tuple.__new__


class IndexCorrupt(LevelDBError):  # type: ignore[misc]
    """A value in the index that cannot be decoded: the index is damaged; rebuild it.

    A LevelDBError, so that readers treat it like the corruption LevelDB
    itself reports (see Project.view).
    """


def text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise IndexCorrupt(f"undecodable key or value {raw[:60]!r}") from exc


def number(raw: bytes | None, base: int = 10) -> int:
    """The integer ``raw`` holds; a missing value (None) is 0."""
    if raw is None:
        return 0
    try:
        return int(raw, base)
    except ValueError as exc:
        raise IndexCorrupt(f"not a number: {raw[:60]!r}") from exc


def encode_record(entry: Entry) -> bytes:
    """The value the index keeps for ``entry`` (its ident is in the key, not here)."""
    start = "" if entry.start_time is None else str(entry.start_time)
    end = "" if entry.end_time is None else str(entry.end_time)
    fields = (
        entry.status,
        start,
        end,
        one_line(entry.reason),
        one_line(entry.host),
        one_line(entry.signature),
    )
    return _SEP.join(fields).encode()


def decode_rows(
    records: Iterable[tuple[bytes, bytes]], limit: int | None = None, ident_at: int = 0
) -> list[Entry]:
    """The Entries of encoded records: the one decoder of a record.

    ``records``: (key, encoded record) pairs, the ident being ``key[ident_at:]``
    (2 for ``r/IDENT``; 0 for the ident of a change-log entry); at most
    ``limit`` of them are read (one at least). One loop for many: a reader
    loading a million rows (the TUI) pays no call per row.
    """
    out: list[Entry] = []
    append = out.append
    stored = _STORED_SET
    most = sys.maxsize if limit is None else limit
    raw = b""
    try:
        for key, raw in records:
            status, start, end, reason, host, signature = raw.decode().split(_SEP, 5)
            if status not in stored:
                raise ValueError(status)
            fields = (
                key[ident_at:].decode(),
                status,
                int(start) if start else None,
                int(end) if end else None,
                reason,
                host,
                signature,
            )
            append(_new_entry(Entry, fields))
            if len(out) >= most:
                break
    except (UnicodeDecodeError, ValueError) as exc:
        raise IndexCorrupt(f"undecodable record after {len(out)} rows: {raw[:60]!r}") from exc
    return out


def decode_record(ident: str, raw: bytes) -> Entry:
    """The Entry of ``ident`` whose encoded record is ``raw``."""
    (entry,) = decode_rows(((ident.encode(), raw),))
    return entry


def encode_group_header(cause: ErrorSignature) -> bytes:
    """The value of ``g/SIG``: ``exception SEP template SEP frame`` (each on one line)."""
    fields = (cause.exception, cause.message, cause.frame)
    return _SEP.join(one_line(field) for field in fields).encode()


def decode_group_header(signature: str, raw: bytes | None) -> ErrorSignature:
    """The cause a ``g/SIG`` value names; a missing or garbled one is damage."""
    if raw is None:
        raise IndexCorrupt(f"the error group {signature} has members but no header")
    parts = text(raw).split(_SEP)
    if len(parts) != 3:
        raise IndexCorrupt(f"undecodable error group header {raw[:60]!r}")
    return ErrorSignature(signature, *parts)


def encode_change(ident: str, record: bytes) -> bytes:
    """The change-log entry of a resource now holding ``record`` (its encoded bytes)."""
    return ident.encode() + _SEP_BYTES + record


def encode_removal(ident: str) -> bytes:
    """The change-log entry of a resource whose directory vanished."""
    return ident.encode() + _SEP_BYTES + _REMOVED_MARK


def decode_change(raw: bytes) -> tuple[str, Entry | None] | None:
    """A change-log entry: (ident, its row, or None if it was removed); None: reload.

    The separator is ASCII, so it never occurs inside a UTF-8 sequence: the
    entry is split as bytes, and its record decoded once, with its ident.
    """
    ident, sep, value = raw.partition(_SEP_BYTES)
    if not sep:
        raise IndexCorrupt(f"undecodable change {raw[:60]!r}")
    if value == _RELOAD_MARK:
        text(ident)  # a reload has no ident; anything undecodable there is damage
        return None
    if value == _REMOVED_MARK:
        return text(ident), None
    (row,) = decode_rows(((ident, value),))
    return row[0], row
