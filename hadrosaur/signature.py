"""Error signatures: which recorded errors share a cause.

A run of 100,000 resources may fail 14,000 times for five reasons. Each
error's text (its ``error.log``: a Python traceback, or hadrosaur's note that
a worker died) is reduced to a *signature*: the exception type, its message
with the parts that vary from one resource to the next replaced by
placeholders (the *template*), and the innermost frame of the user's own code.
Errors with the same signature are one group; different exception types
never share one.

The rules, applied to the message in this order (examples in the README's
"Triage" section):

1. the resource's own ident becomes ``<ident>`` where it is a whole token:
   where neither the character before it nor the one after it is a letter or
   a digit (``_``, ``.``, ``/``, ``-``, quotes and spaces separate tokens, so
   ``sample_k1`` and ``'k1'`` hold the ident ``k1``, and ``bad`` does not hold
   ``a``). A short ident (``a``, ``k1``) is thus not replaced inside other words,
   where it would split one cause into as many groups as there are idents.
   The rule is applied once more after rules 2-4, so that an ident followed by
   a number (``a17`` of the ident ``a``) is not left in the template either;
2. a UUID becomes ``<uuid>``; ``0x``-prefixed hex, and runs of 8 or more hex
   digits mixing digits and letters (hashes, addresses), become ``<hex>``;
3. a token of letters and digits whose digits come in two or more runs
   (``tmpk3j2x9a``: a random name) becomes ``<id>``;
4. every other number (``42``, ``3.5``, ``1e-9``, the digits of ``node017``)
   becomes ``<n>``; so host names differing only by numbers, line numbers,
   sizes, counts and ids inside names (``sample_00042``) normalise alike;
5. runs of spaces and tabs become one space, and the template keeps the
   message's first ``TEMPLATE_MAX`` characters (less a word or placeholder
   that the cut would split).

An ident that is also a word of the message (``a`` in "a bad value") is
replaced there too: such errors group apart from the same cause with other
idents, the one case the rules cannot tell.

Quoted values are not removed as such: ``KeyError: 'weight'`` names the
missing key, which *is* the cause; their varying parts (numbers, the
ident, hashes) are normalised by the rules above.

The signature string is 10 hex digits of a BLAKE2b hash of the exception
type, the template and the frame, so it is stable across runs, machines and
Python versions: it can be typed (``hadrosaur ls BASE COLL --group SIG``).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

__all__ = (
    "SIGNATURE_PREFIX_MIN",
    "TEMPLATE_MAX",
    "ErrorSignature",
    "RaisedError",
    "error_headline",
    "headline_of",
    "is_signature_prefix",
    "normalise_message",
    "parse_error",
    "signature_of",
    "signature_of_raised",
)

#: Characters of a normalised message kept in a template (and hashed).
TEMPLATE_MAX = 500
#: How much of the end of an error text is parsed: the raised exception is at the end.
_TAIL_CHARS = 16_384

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line \d+, in (?P<func>.+)$')
_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::(?: (?P<message>.*))?)?$")
_VOLATILE = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<hex>0[xX][0-9a-fA-F]+"
    r"|(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{8,}(?![0-9A-Za-z]))"
    r"|(?P<id>(?<![0-9A-Za-z])(?=[A-Za-z]*[0-9]+[A-Za-z]+[0-9])[0-9A-Za-z]+(?![0-9A-Za-z]))"
    r"|(?P<n>[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
)
_SPACES = re.compile(r"[ \t]+")
#: Stand for the ident and the placeholders while the rules run (Unicode noncharacters:
#: never in text, and neither letters nor digits, so they end tokens as the words would).
_IDENT_MARK = "\ufdd0"
_MARKS = {"uuid": "\ufdd1", "hex": "\ufdd2", "id": "\ufdd3", "n": "\ufdd4"}
_PLACEHOLDERS = {
    _IDENT_MARK: "<ident>",
    _MARKS["uuid"]: "<uuid>",
    _MARKS["hex"]: "<hex>",
    _MARKS["id"]: "<id>",
    _MARKS["n"]: "<n>",
}
_WORDS = tuple(_PLACEHOLDERS.values())
#: Parts of a file's path that say it is not the user's code (wherever Python is installed).
_LIBRARY_PATH = re.compile(r"[/\\](?:site-packages|dist-packages|lib[/\\]python\d+\.\d+)[/\\]")
_OWN_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


@dataclass(frozen=True)
class RaisedError:
    """What an error text says was raised.

    Attributes:
        exception: the exception's type as the traceback prints it
            (``KeyError``, ``mymodule.BadInput``); "" when the text is not a
            Python traceback (e.g. hadrosaur's note that a worker died).
        message: the exception's message, all of its lines ("" if it has none);
            for a text that is not a traceback, its last non-blank line.
        frame: ``file.py:function`` of the innermost frame in the user's code
            ("" when there is none: not a traceback, or only library frames).
    """

    exception: str
    message: str
    frame: str


@dataclass(frozen=True)
class ErrorSignature:
    """The cause of an error, as far as its text tells.

    Attributes:
        signature: 10 hex digits naming the group (stable across runs and machines).
        exception: the exception type ("" when the error is not a traceback).
        message: the normalised message (the template), one line.
        frame: ``file.py:function`` of the innermost user frame, or "".
    """

    signature: str
    exception: str
    message: str
    frame: str


def parse_error(text: str) -> RaisedError:
    """The exception type, message and innermost user frame of an error text.

    With chained exceptions ("During handling of the above exception...")
    the last traceback is the one raised, and it is the one read.
    """
    lines = text[-_TAIL_CHARS:].splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    last_frame = -1
    frame = ""
    for number in range(len(lines) - 1, -1, -1):
        if 'File "' in lines[number] and _FRAME.match(lines[number]):
            last_frame = number
            break
    if last_frame < 0:
        last = lines[-1].strip() if lines else ""
        match = _EXCEPTION_LINE.match(last)
        # "KeyError: 'x'" alone is an exception; "hadrosaur: the worker died" is not.
        if match and match.group("message") is not None and _looks_like_a_class(match["type"]):
            return RaisedError(match.group("type"), match.group("message") or "", "")
        return RaisedError("", last, "")
    frame = _innermost_user_frame(lines, last_frame)
    # After the last frame: its source line and carets (indented), then the exception.
    start = last_frame + 1
    while start < len(lines) and (not lines[start] or lines[start][0].isspace()):
        start += 1
    if start >= len(lines):
        return RaisedError("", "", frame)
    match = _EXCEPTION_LINE.match(lines[start])
    if not match:
        return RaisedError("", "\n".join(lines[start:]), frame)
    rest = [match.group("message") or ""]
    for line in lines[start + 1 :]:
        if line.startswith(("  +", "  |")):
            break  # an ExceptionGroup's sub-exceptions follow: they are not its message
        rest.append(line)
    return RaisedError(match.group("type"), "\n".join(rest).strip("\n"), frame)


def _looks_like_a_class(name: str) -> bool:
    return name.rpartition(".")[2][:1].isupper()


def _innermost_user_frame(lines: list[str], last_frame: int) -> str:
    """``file.py:function`` of the last frame, up from ``last_frame``, that is the user's code."""
    for number in range(last_frame, -1, -1):
        line = lines[number]
        if line.startswith("Traceback (most recent call last)"):
            break  # the frames above belong to an earlier exception of the chain
        match = _FRAME.match(line) if 'File "' in line else None
        if match is None:
            continue
        path = match.group("file")
        if path.startswith("<frozen ") or _LIBRARY_PATH.search(path):
            continue
        if path.startswith(_OWN_PACKAGE):  # tracebacks print absolute paths of modules
            continue
        return f"{os.path.basename(path)}:{match.group('func').strip()}"
    return ""


def normalise_message(message: str, ident: str = "") -> str:
    """The template of a message: its varying parts replaced (see the module docstring)."""
    if ident and ident in message:
        message = _mark_ident(message, ident)
    template = _VOLATILE.sub(_placeholder, message)
    if ident and ident in template:
        template = _mark_ident(template, ident)  # "a17" of "a" is "a<n>" now: a token
    template = _unmark(_SPACES.sub(" ", template))
    return _cut(" ".join(part.strip() for part in template.splitlines() if part.strip()))


def _cut(template: str) -> str:
    """The first TEMPLATE_MAX characters, less a word or placeholder the cut would split.

    A split word could read as the ident (``ab`` of ``abc``), a split placeholder as a word.
    """
    if len(template) <= TEMPLATE_MAX:
        return template
    end = TEMPLATE_MAX
    while end > 0 and template[end - 1].isalnum() and template[end].isalnum():
        end -= 1
    if end == 0:
        return template[:TEMPLATE_MAX]  # one word longer than a template: cut inside it
    start = template.rfind("<", 0, end)
    if start >= 0 and ">" not in template[start:end] and template.startswith(_WORDS, start):
        end = start
    return template[:end].rstrip()


def _mark_ident(text: str, ident: str) -> str:
    """``text`` with each whole-token occurrence of ``ident`` replaced by the ident mark.

    str.find and two neighbour checks, not a regex: a pattern per ident would
    be compiled once per error (a million idents overflow re's cache). Repeated
    until nothing changes: in ``0.0.`` of the ident ``0.`` the first one is a
    token only once the second is replaced.
    """
    for _ in range(_PLAIN_PASSES):
        if ident not in text:
            return text
        marked = _mark_ident_once(text, ident)
        if marked is text:
            return text
        text = marked
    # Still changing: a chain of the ident ("0.0.0.…" of "0."), which the passes above
    # mark one link at a time (quadratic: 11 s for 16 KB). Passes that see the marks
    # they place reach the same end in a few passes, alternately from each side.
    for _ in range(_CHAIN_PASSES):
        marked = _mark_chain(_mark_chain(text, ident, True), ident, False)
        if marked == text:
            break
        text = marked
    return text


def _mark_chain(text: str, ident: str, backwards: bool) -> str:
    """One pass marking ``ident`` where it is a whole token, counting marks placed as it goes.

    Backwards, an occurrence followed by the mark just placed is a token on that
    side; forwards, one that follows it. The result is the one the plain passes
    reach, in one pass per direction of the chain.
    """
    size, end = len(ident), len(text)
    spans: list[tuple[int, int]] = []  # marked in this pass, nearest to ``at`` last
    at = text.rfind(ident) if backwards else text.find(ident)
    while at >= 0:
        after = at + size
        beside = spans[-1] if spans else (-1, -1)
        left_ok = at == 0 or not text[at - 1].isalnum() or beside[1] == at
        right_ok = after == end or not text[after].isalnum() or beside[0] == after
        if left_ok and right_ok:
            spans.append((at, after))
            at = text.rfind(ident, 0, at) if backwards else text.find(ident, after)
        else:
            at = text.rfind(ident, 0, after - 1) if backwards else text.find(ident, at + 1)
    if not spans:
        return text
    spans.sort()
    parts, kept = [], 0
    for start, stop in spans:
        parts.append(text[kept:start])
        parts.append(_IDENT_MARK)
        kept = stop
    parts.append(text[kept:])
    return "".join(parts)


#: Passes of _mark_ident_once before a chain of the ident is assumed; real messages need 1-2.
_PLAIN_PASSES = 4
#: Pairs of passes, one from each side, for a chain (each side's links need one).
_CHAIN_PASSES = 8


def _mark_ident_once(text: str, ident: str) -> str:
    at = text.find(ident)
    if at < 0:
        return text
    size, end = len(ident), len(text)
    parts = []
    kept = 0
    while at >= 0:
        after = at + size
        if (at == 0 or not text[at - 1].isalnum()) and (after == end or not text[after].isalnum()):
            parts.append(text[kept:at])
            parts.append(_IDENT_MARK)
            kept = after
            at = text.find(ident, after)
        else:
            at = text.find(ident, at + 1)
    if not parts:
        return text
    parts.append(text[kept:])
    return "".join(parts)


def _unmark(text: str) -> str:
    """The marks replaced by their placeholders (str.replace: str.translate with a dict is
    several times slower)."""
    for mark, word in _PLACEHOLDERS.items():
        if mark in text:
            text = text.replace(mark, word)
    return text


def _placeholder(match: re.Match[str]) -> str:
    return _MARKS[match.lastgroup or "n"]


def signature_of(text: str, ident: str = "") -> ErrorSignature:
    """The signature of an error text (an ``error.log``) of the resource ``ident``."""
    return signature_of_raised(parse_error(text), ident)


def signature_of_raised(raised: RaisedError, ident: str = "") -> ErrorSignature:
    """The signature of what :func:`parse_error` read (a text parsed once, used twice)."""
    template = normalise_message(raised.message, ident)
    frame = raised.frame
    if ident and ident in frame:
        frame = _unmark(_mark_ident(frame, ident))
    digest = hashlib.blake2b(
        f"{raised.exception}\x1f{template}\x1f{frame}".encode("utf-8", "replace"),
        digest_size=5,
    ).hexdigest()
    return ErrorSignature(digest, raised.exception, template, frame)


#: Hex digits of a signature needed to name its group (as git abbreviates hashes).
SIGNATURE_PREFIX_MIN = 4


def is_signature_prefix(text: str) -> bool:
    """Whether ``text`` may name a group: 4 to 10 lowercase hex digits (``3fa9``)."""
    return SIGNATURE_PREFIX_MIN <= len(text) <= 10 and all(c in "0123456789abcdef" for c in text)


def error_headline(text: str) -> str:
    """``ExceptionType: first line of the message``: one line that says what was raised."""
    return headline_of(parse_error(text))


def headline_of(raised: RaisedError) -> str:
    """:func:`error_headline` of what :func:`parse_error` read."""
    first = next((line.strip() for line in raised.message.splitlines() if line.strip()), "")
    if not raised.exception:
        return first
    return f"{raised.exception}: {first}" if first else raised.exception
