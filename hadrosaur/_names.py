"""Validation of collection names and resource idents.

Both become directory names under the base directory, so anything that could
escape it (``..``, ``/``), hide among hadrosaur's own dot-files, or break the
line-based files and terminal displays is refused before anything touches the
disk: control characters (C0, DEL and C1, Unicode category Cc) and the bidi
formatting characters, which make a name read differently from what it is
(see hadrosaur.display.BIDI_CONTROLS).
"""

from __future__ import annotations

import re

from .display import BIDI_CONTROLS
from .errors import InvalidName

__all__ = ("MAX_NAME_BYTES", "check_collection", "check_ident", "check_name")

MAX_NAME_BYTES = 255
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f" + "".join(re.escape(chr(c)) for c in sorted(BIDI_CONTROLS)) + "]"
)


def check_name(kind: str, value: object) -> str:
    """Return ``value`` if it is a valid name, else raise :class:`InvalidName`.

    Args:
        kind: what the name is for, used in the message ("collection" or "ident").
        value: the candidate name.

    Example:
        >>> check_name("ident", "GCF_0001")
        'GCF_0001'
    """
    if not isinstance(value, str):
        raise InvalidName(kind, value, f"it is a {type(value).__name__}, not a str")
    if not value:
        raise InvalidName(kind, value, "it is empty")
    if value in (".", ".."):
        raise InvalidName(kind, value, "it names a directory link")
    if value.startswith("."):
        raise InvalidName(kind, value, "it starts with '.', which hadrosaur keeps for itself")
    if "/" in value:
        raise InvalidName(kind, value, "it contains '/'")
    control = _CONTROL.search(value)
    if control:
        char = control.group()
        what = "bidi formatting" if ord(char) in BIDI_CONTROLS else "control"
        raise InvalidName(
            kind, value, f"it contains the {what} character U+{ord(char):04X} ({char!r})"
        )
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidName(kind, value, "it is not valid Unicode (lone surrogate)") from None
    if size > MAX_NAME_BYTES:
        raise InvalidName(kind, value, f"it is {size} UTF-8 bytes long")
    return value


def check_collection(value: object) -> str:
    """Validate a collection name (see :func:`check_name`)."""
    return check_name("collection", value)


def check_ident(value: object) -> str:
    """Validate a resource ident (see :func:`check_name`)."""
    return check_name("ident", value)
