"""Validation of collection names and resource idents.

Both become directory names under the base directory, so anything that could
escape it (``..``, ``/``), hide among hadrosaur's own dot-files, or break the
line-based files and terminal displays is refused before anything touches the
disk: control characters (C0, DEL and C1, Unicode category Cc) and the bidi
formatting characters, which make a name read differently from what it is
(see hadrosaur.display.BIDI_CONTROLS), the line and paragraph separators
U+2028 and U+2029 (line breaks to JavaScript, JSON readers of old, and many
editors and terminals: a plan file or a log line would break there), and the
Unicode noncharacters (U+FDD0 to U+FDEF, and the last two code points of
every plane, U+FFFE, U+FFFF ... U+10FFFF), which are kept for a program's
internal use and not meant to be interchanged.
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
_SEPARATORS = {0x2028: "line separator", 0x2029: "paragraph separator"}
#: U+FDD0..U+FDEF and U+xxFFFE, U+xxFFFF of each of the 17 planes.
_NONCHARACTERS = frozenset(
    [
        *range(0xFDD0, 0xFDF0),
        *(p + low for p in range(0, 0x110000, 0x10000) for low in (0xFFFE, 0xFFFF)),
    ]
)
_REFUSED = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted({*_SEPARATORS, *_NONCHARACTERS})) + "]"
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
    refused = _REFUSED.search(value)
    if refused:
        code = ord(refused.group())
        what = _SEPARATORS.get(code, "Unicode noncharacter")
        raise InvalidName(
            kind, value, f"it contains U+{code:04X}, a {what}, which names may not hold"
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
