"""The key layout of the index: one place that says which key holds what.

Keys (bytes)::

    a/v                    schema version; anything else means "rebuild"
    a/e                    epoch: a random id, new at every rebuild
    a/l                    "FIRST NEXT": the bounds of the change log below
    r/IDENT                the resource's Record (status, start, end, reason)
    s/STATUS/IDENT         empty; lists a status in O(k)
    c/STATUS               count of r/ entries with that status; stats in O(1)
    l/SEQ                  bounded change log (SEQ: 16 hex digits) for live readers
    m/MINUTE               resources completed in that minute (epoch minutes)
    p/IDENT                empty; the ident is planned (a removed one returns to unavailable)
    P/PLAN                 empty; that plan file has been applied
    Pn                     how many plan files there were when last all were checked

The small keys every reader needs (a/, c/) sort together, so at a million
resources opening the index and reading the counts touches one table file,
not one at each end of the key space. The values are encoded in codec.py.

Example:
    >>> status_key("error", "r1"), log_key(26)
    (b's/error/r1', b'l/000000000000001a')
"""

from __future__ import annotations

__all__ = (
    "EPOCH_KEY",
    "LOG_BOUNDS_KEY",
    "LOG_END",
    "MINUTES_END",
    "MINUTE_PREFIX",
    "PLAN_COUNT_KEY",
    "RECORDS_END",
    "RECORD_PREFIX",
    "SCHEMA_VERSION",
    "VERSION_KEY",
    "count_key",
    "log_key",
    "minute_key",
    "plan_applied_key",
    "planned_key",
    "record_key",
    "status_key",
    "status_prefix",
)

#: 3: interrupted is stored (r/, s/interrupted/, c/interrupted), and markers of
#: locked resources wait in .updates/.kept/.
#: 4: a record holds the host of a pending resource (a fifth field), so that a death
#: found by a sweep is recorded without reading meta.json (see sweep.py).
SCHEMA_VERSION = b"4"
VERSION_KEY = b"a/v"
EPOCH_KEY = b"a/e"
#: "FIRST NEXT": the bounds of the change log, kept beside the counts.
LOG_BOUNDS_KEY = b"a/l"
PLAN_COUNT_KEY = b"Pn"
RECORD_PREFIX = b"r/"
#: The first key after every r/ key ("0" follows "/"): the stop of a range of records.
RECORDS_END = b"r0"
LOG_END = b"l0"
MINUTE_PREFIX = b"m/"
MINUTES_END = b"m0"


def record_key(ident: str) -> bytes:
    return b"r/" + ident.encode()


def status_prefix(status: str) -> bytes:
    """The prefix of every ``s/`` key of ``status``; what follows it is the ident."""
    return b"s/" + status.encode() + b"/"


def status_key(status: str, ident: str) -> bytes:
    return b"s/" + status.encode() + b"/" + ident.encode()


def count_key(status: str) -> bytes:
    return b"c/" + status.encode()


def log_key(seq: int) -> bytes:
    return b"l/%016x" % seq


def minute_key(minute: int) -> bytes:
    return b"m/%010d" % minute


def planned_key(ident: str) -> bytes:
    return b"p/" + ident.encode()


def plan_applied_key(plan_id: str) -> bytes:
    return b"P/" + plan_id.encode()
