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
    g/SIG                  an error group's header: exception SEP template SEP frame
                           (written with its first member, deleted with its last)
    n/SIG                  how many resources are in error with signature SIG (> 0)
    G/SIG/IDENT            empty; IDENT is a member: a group's idents in O(k)
    t/SIG/TIME/IDENT       empty; TIME (15 digits, epoch ms) is when IDENT failed: the
                           first and last key of t/SIG/ are first and last seen
    h/SIG/MINUTE           how many members failed in that epoch minute: a sparkline
    o/HOST                 "BOOT\0EPOCH\0SEQ": how far readers on HOST followed the change log
                           for other hosts' leases (leases.py)
    o/HOST\0IDENT          what readers on HOST saw of IDENT's lease, on HOST's own clock
    k/TOKEN/IDENT          empty; only in an index being replaced: IDENT was drained
                           while builder TOKEN built its successor aside (aside.py)

SIG is the 10 hex digits of hadrosaur.signature; a resource is a member of
the group its record's signature names (every error has one, damage
included). The group keys of a resource change in the WriteBatch that
changes its record, so counts, members and times are exact as errors come
and go; listing the groups reads n/ (O(groups)), never the records. A
member without a time (damage before any attempt) has no t/ or h/ key.

The small keys every reader needs (a/, c/) sort together, so at a million
resources opening the index and reading the counts touches one table file,
not one at each end of the key space. The values are encoded in codec.py.

Example:
    >>> status_key("error", "r1"), log_key(26)
    (b's/error/r1', b'l/000000000000001a')
"""

from __future__ import annotations

__all__ = (
    "COUNT_OF_GROUP_PREFIX",
    "DRAINED_PREFIX",
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
    "drained_key",
    "drained_prefix",
    "group_count_key",
    "group_header_key",
    "group_member_key",
    "group_members_prefix",
    "group_minute_key",
    "group_minutes_prefix",
    "group_time_key",
    "group_times_prefix",
    "log_key",
    "minute_key",
    "plan_applied_key",
    "planned_key",
    "record_key",
    "status_key",
    "status_prefix",
    "watch_key",
    "watch_prefix",
    "watch_state_key",
)

#: 3: interrupted is stored (r/, s/interrupted/, c/interrupted), and markers of
#: locked resources wait in .updates/.kept/.
#: 4: a record holds the host of a pending resource (a fifth field), so that a death
#: found by a sweep is recorded without reading meta.json (see sweep.py).
#: 5: a record holds an error's signature (a sixth field), and the g/ n/ G/ t/ h/
#: keys group the errors by it.
#: 6: the same keys; signatures replace the ident only where it is a whole token
#: (signature.py), so the groups of a schema 5 index are computed again by a rebuild.
SCHEMA_VERSION = b"6"
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
#: The prefix of every n/SIG key: the list of groups.
COUNT_OF_GROUP_PREFIX = b"n/"
#: The prefix of every k/TOKEN/IDENT key (resources drained during a build aside).
DRAINED_PREFIX = b"k/"


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


def group_header_key(signature: str) -> bytes:
    return b"g/" + signature.encode()


def group_count_key(signature: str) -> bytes:
    return b"n/" + signature.encode()


def group_members_prefix(signature: str) -> bytes:
    """The prefix of a group's G/ keys; what follows it is a member's ident."""
    return b"G/" + signature.encode() + b"/"


def group_member_key(signature: str, ident: str) -> bytes:
    return group_members_prefix(signature) + ident.encode()


def group_times_prefix(signature: str) -> bytes:
    return b"t/" + signature.encode() + b"/"


def group_time_key(signature: str, ms: int, ident: str) -> bytes:
    """Sorted by time within the group: 15 digits hold every epoch ms until year 33658."""
    return group_times_prefix(signature) + b"%015d/" % ms + ident.encode()


def group_minutes_prefix(signature: str) -> bytes:
    return b"h/" + signature.encode() + b"/"


def group_minute_key(signature: str, minute: int) -> bytes:
    return group_minutes_prefix(signature) + b"%010d" % minute


def watch_state_key(host: bytes) -> bytes:
    """Where the lease watches of readers on ``host`` stand (see leases.py)."""
    return b"o/" + host


def watch_prefix(host: bytes) -> bytes:
    """The prefix of the lease watches of readers on ``host``; the ident follows it.

    NUL ends the host name (no host name holds one), so one host's watches
    never start with another's name.
    """
    return b"o/" + host + b"\0"


def watch_key(prefix: bytes, ident: str) -> bytes:
    return prefix + ident.encode()


def drained_prefix(token: str) -> bytes:
    """The prefix of builder ``token``'s k/ keys; what follows it is an ident."""
    return DRAINED_PREFIX + token.encode() + b"/"


def drained_key(token: str, ident: str) -> bytes:
    return drained_prefix(token) + ident.encode()
