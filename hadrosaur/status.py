"""The status words, and how a word read from a status file is understood.

The bottom layer: it imports nothing from hadrosaur, so every module (the
index, the readers, the compute lifecycle, the CLI and the TUI) can share one
vocabulary. A status file holds one of three words a writer puts there
(completed, pending, error); interrupted and unavailable are only derived by
readers. Any other word, and a status file that cannot be read, means the
file is damaged: the resource reads as an error, never as a reason to fail.

Example:
    >>> status_word(b"complete\\n")  # what hadrosaur 0.4.1 wrote
    'completed'
    >>> is_damaged("completed"), is_damaged("interrupted")
    (False, True)
"""

from __future__ import annotations

__all__ = (
    "ALIASES",
    "COMPLETED",
    "COUNT_KEYS",
    "ERROR",
    "INTERRUPTED",
    "PENDING",
    "STATUSES",
    "UNAVAILABLE",
    "WRITTEN",
    "canonical",
    "is_damaged",
    "status_word",
)

COMPLETED = "completed"
PENDING = "pending"
ERROR = "error"
UNAVAILABLE = "unavailable"
#: Derived at read time, never written: the status file says pending but no
#: live process holds the resource's compute lock.
INTERRUPTED = "interrupted"

#: Every status a reader can see.
STATUSES: tuple[str, ...] = (COMPLETED, PENDING, INTERRUPTED, ERROR, UNAVAILABLE)
#: The keys of ``stats(coll)["counts"]``; total is the sum of the others.
COUNT_KEYS: tuple[str, ...] = ("total", *STATUSES)
#: The words a writer puts in a status file; every other word there is damage.
WRITTEN: frozenset[str] = frozenset((COMPLETED, PENDING, ERROR))
#: Older names of statuses: hadrosaur 0.4.1 wrote (and was asked for) "complete".
ALIASES: dict[str, str] = {"complete": COMPLETED}


def canonical(word: str) -> str:
    """The status ``word`` names, aliases resolved (``complete`` -> ``completed``)."""
    return ALIASES.get(word, word)


def status_word(raw: bytes) -> str:
    """The word a status file's bytes hold: decoded, stripped, aliases resolved.

    Undecodable bytes become U+FFFD rather than an exception: such a word is
    not a status, so :func:`is_damaged` says so and the resource reads as
    damaged instead of stopping whoever read it.
    """
    return canonical(raw.decode("utf-8", "replace").strip())


def is_damaged(word: str) -> bool:
    """True when a word read from a status file is not one a writer writes.

    Such a file is damaged (garbled, truncated by hand, or unreadable: the
    readers pass a word saying why), and the resource reads as an error with
    that reason. ``interrupted`` and ``unavailable`` are damage too: they are
    derived by readers, never written.
    """
    return word not in WRITTEN
