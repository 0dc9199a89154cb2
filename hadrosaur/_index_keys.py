"""How the index encodes its keys and values, and what counts as damage.

Keys are bytes with a one-letter prefix (see _index.py for the table); a
resource's record is ``status SEP start SEP end SEP reason`` in UTF-8, SEP
being the ASCII unit separator, which names and reasons never contain.
Anything that does not decode is :class:`IndexCorrupt`: the index is a
cache, and a damaged one is rebuilt rather than believed.

Example:
    >>> decode_record(encode_record(Record("error", 1, 2, "ValueError: x")))
    Record(status='error', start=1, end=2, reason='ValueError: x')
"""

from __future__ import annotations

from ._kv import LevelDBError
from ._store import Record
from .resource import COMPLETED, ERROR, INTERRUPTED, PENDING, UNAVAILABLE

__all__ = (
    "RELOAD_MARK",
    "REMOVED_MARK",
    "SEP",
    "STORED_SET",
    "STORED_STATUSES",
    "IndexCorrupt",
    "c_key",
    "decode_fields",
    "decode_record",
    "encode_record",
    "l_key",
    "m_key",
    "number",
    "p_key",
    "plan_key",
    "r_key",
    "s_key",
    "text",
)

#: Statuses the index stores. Interrupted is recorded when a drain finds a pending
#: resource's lock free (see _index_sweep.py), and stays until its next marker.
STORED_STATUSES = (COMPLETED, PENDING, INTERRUPTED, ERROR, UNAVAILABLE)
SEP = "\x1f"
#: The status written to the change log for a bulk change (a plan): "reload".
RELOAD_MARK = "*"
#: The status written to the change log for a resource whose directory vanished.
REMOVED_MARK = "-"


class IndexCorrupt(LevelDBError):  # type: ignore[misc]
    """A value in the index that cannot be decoded: the index is damaged; rebuild it.

    A LevelDBError, so that readers treat it like the corruption LevelDB
    itself reports (see Project.view).
    """


def r_key(ident: str) -> bytes:
    return b"r/" + ident.encode()


def s_key(status: str, ident: str) -> bytes:
    return b"s/" + status.encode() + b"/" + ident.encode()


def c_key(status: str) -> bytes:
    return b"c/" + status.encode()


def l_key(seq: int) -> bytes:
    return b"l/%016x" % seq


def m_key(minute: int) -> bytes:
    return b"m/%010d" % minute


def p_key(ident: str) -> bytes:
    return b"p/" + ident.encode()


def plan_key(plan_id: str) -> bytes:
    return b"P/" + plan_id.encode()


def text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise IndexCorrupt(f"undecodable key or value {raw[:60]!r}") from exc


def number(raw: bytes, base: int = 10) -> int:
    try:
        return int(raw, base)
    except ValueError as exc:
        raise IndexCorrupt(f"not a number: {raw[:60]!r}") from exc


def _clean_reason(reason: str) -> str:
    # The separator and newlines would corrupt the encoding and the one-line displays.
    return "".join(" " if ch < " " else ch for ch in reason)


def encode_record(rec: Record) -> bytes:
    start = "" if rec.start is None else str(rec.start)
    end = "" if rec.end is None else str(rec.end)
    return SEP.join((rec.status, start, end, _clean_reason(rec.reason))).encode()


STORED_SET = frozenset(STORED_STATUSES)


def decode_fields(raw: bytes) -> tuple[str, int | None, int | None, str]:
    """(status, start, end, reason) of an encoded record; the fast path for bulk reads."""
    try:
        status, start, end, reason = raw.decode().split(SEP, 3)
        fields = (status, int(start) if start else None, int(end) if end else None, reason)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IndexCorrupt(f"undecodable record {raw[:60]!r}") from exc
    if status not in STORED_STATUSES:
        raise IndexCorrupt(f"undecodable record {raw[:60]!r}")
    return fields


def decode_record(raw: bytes) -> Record:
    return Record(*decode_fields(raw))
