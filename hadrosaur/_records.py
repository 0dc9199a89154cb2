"""Reading a resource's files back: its status word, meta.json, and its index record.

Every read here goes through :mod:`._nofollow`: a symlink, FIFO or device
where the layout says "file", or a symlink or file where it says "resource
directory", reads as damage with a reason ("symlink refused"), and what it
points at is never read. So a status linked to ``/etc/shadow`` shows as a
damaged resource, and none of shadow's lines reach the index, a listing or
a terminal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ._layout import (
    ERROR_FILE,
    LEGACY_END_FILE,
    LEGACY_START_FILE,
    META_FILE,
    STATUS_FILE,
)
from ._nofollow import (
    SYMLINK_REFUSED,
    RefusedFile,
    describe_mode,
    directory_problem,
    open_regular,
    read_regular,
)
from .display import one_line
from .entries import Entry
from .errors import DamagedResource
from .signature import (
    ErrorSignature,
    headline_of,
    parse_error,
    signature_of,
    signature_of_raised,
)
from .status import ERROR, PENDING, is_damaged, status_word

__all__ = (
    "cause_of",
    "damaged_dir_reason",
    "damaged_entry",
    "damaged_status_reason",
    "read_meta",
    "read_meta_checked",
    "read_record",
    "read_status",
    "read_text",
    "scan_entries",
    "scan_idents",
)

#: A meta.json larger than this is damage, not read: it holds times, a pid and
#: the args, and every reader (stats, ls, the TUI) may read it.
META_MAX_BYTES = 64 * 1024 * 1024
_REASON_MAX = 300
#: How much of the end of an error.log is read for its headline: the exception is at the end.
ERROR_TAIL_BYTES = 16_384

#: Paths may be given as str or Path (see _store.StrPath).
StrPath = str | os.PathLike[str]


def read_status(res_dir: StrPath, dir_fd: int | None = None) -> str | None:
    """The status word of a resource, or None when it has none (never started).

    ``complete`` (hadrosaur 0.4.1) is read as ``completed``. A word that is
    not a status is returned as it is, and a status that cannot be read at all
    (a symlink, a directory, an I/O error) as an :class:`_Unreadable` word
    saying why; callers treat both as damage, never as a reason to fail.
    ``dir_fd``: the directory a relative ``res_dir`` is in (see read_record).
    """
    try:
        raw = read_regular(f"{os.fspath(res_dir)}/{STATUS_FILE}", 256, dir_fd=dir_fd)
    except RefusedFile as exc:
        return _Unreadable(exc.reason)
    except OSError as exc:
        return _Unreadable(f"unreadable: {exc.strerror or exc}")
    if raw is None:
        return None
    return status_word(raw)


def read_text(res_dir: StrPath, name: str) -> str:
    """A text file of a resource ("" when missing), never followed if it is a symlink.

    Raises:
        DamagedResource: ``name`` is a symlink, a FIFO, a directory...: not read.
    """
    try:
        raw = read_regular(os.path.join(res_dir, name))
    except RefusedFile as exc:
        raise DamagedResource(Path(res_dir), f"{name}: {exc.reason}") from None
    return "" if raw is None else raw.decode("utf-8", "replace")


def _read_int_file(path: StrPath, dir_fd: int | None = None) -> int | None:
    try:
        raw = read_regular(path, 64, dir_fd=dir_fd)
    except OSError:  # a directory, an I/O error: no usable time
        return None
    if not raw:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None


class _Unreadable(str):
    """A status "word" that read_status made up: why the status file could not be read."""


def read_meta(res_dir: StrPath) -> dict[str, Any]:
    """The resource's meta.json as a dict ({} when missing or unreadable).

    A 0.4.1 resource has no meta.json; its times come from the
    ``start_time``/``end_time`` files instead. Damage (not JSON, too deeply
    nested, a directory) reads as {}: meta.json only describes the status.
    """
    return read_meta_checked(res_dir)[0]


def read_meta_checked(res_dir: StrPath, dir_fd: int | None = None) -> tuple[dict[str, Any], str]:
    """Like :func:`read_meta`, with what makes the resource damaged ("" when nothing).

    Garbled JSON is not damage (meta.json only describes the status), but a
    meta.json that is not a regular file, a symlink above all, is: someone
    put it there, and its target is not read. ``dir_fd``: see read_record.
    """
    try:
        raw = read_regular(
            f"{os.fspath(res_dir)}/{META_FILE}", max_size=META_MAX_BYTES, dir_fd=dir_fd
        )
    except RefusedFile as exc:
        return {}, f"{META_FILE}: {exc.reason}"
    except OSError:
        return {}, ""
    if raw is not None:
        meta = _loads(raw)
        if isinstance(meta, dict):
            return meta, ""
        return {}, ""
    legacy: dict[str, Any] = {}
    start = _read_int_file(os.path.join(res_dir, LEGACY_START_FILE), dir_fd)
    if start is not None:
        legacy["start_time"] = start
        legacy["end_time"] = _read_int_file(os.path.join(res_dir, LEGACY_END_FILE), dir_fd)
    return legacy, ""


#: json's own scanner (the C one), called without json.loads's layers around it.
#: (An attribute typeshed does not declare.)
_scan_once: Callable[[str, int], tuple[object, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(raw: bytes) -> object:
    """The JSON value ``raw`` holds, as json.loads gives it; None when it is not JSON.

    What writers write (ASCII JSON, an object, nothing after it) is decoded
    here by the scanner json.loads uses, sparing a drain its guess of the
    encoding and its two passes for whitespace: one call per meta.json. The
    rest (a BOM, UTF-16, whitespace around the object) goes to json.loads.
    """
    try:
        if raw[:1] == b"{" and raw[-1:] == b"}" and raw[1:2] != b"\0":
            text = raw.decode("utf-8", "surrogatepass")
            value, end = _scan_once(text, 0)
            if end == len(text):
                return value
        return json.loads(raw)
    except (ValueError, RecursionError, StopIteration):
        return None


def _error_cause(
    path: StrPath, ident: str, dir_fd: int | None = None
) -> tuple[str, ErrorSignature]:
    """What an error.log says was raised: its headline, and its signature.

    The headline is one line, ``KeyError: 'weight'``: the exception type and
    the first line of its message (a multi-line message is not reduced to its
    last line); a text that is not a traceback gives its last line. The
    signature groups it with the errors of the same cause. Both come from the
    same tail of the file, read once: the exception is at the end. A missing
    or unreadable file gives an empty headline, and the signature of no text.

    Raises:
        RefusedFile: the file is a symlink, FIFO or device (its target is not read).
    """
    tail = b""
    try:
        fd, st = open_regular(path, dir_fd)
    except RefusedFile:
        raise
    except OSError:  # missing, or an I/O error: no reason to show
        pass
    else:
        try:
            tail = os.pread(fd, ERROR_TAIL_BYTES, max(0, st.st_size - ERROR_TAIL_BYTES))
        except OSError:
            tail = b""
        finally:
            os.close(fd)
    text = tail.decode("utf-8", "replace")
    raised = parse_error(text)
    # Controls (a tab in a message, a NUL in a damaged file, an escape sequence,
    # a bidi override) would break one-line displays and the index's encoding.
    line = one_line(headline_of(raised))[:_REASON_MAX]
    return line, signature_of_raised(raised, ident)


class _Signature(str):
    """An Entry's signature as read from the files: the string, and the cause it names.

    The index keeps only the string in a record; the cause (exception,
    template, frame) is written once per group, when its first member
    arrives, from the Entry that brought it (see :func:`cause_of`). So the
    text is parsed once, by the reader of the files, and never again.
    """

    cause: ErrorSignature

    def __new__(cls, cause: ErrorSignature) -> _Signature:
        signed = super().__new__(cls, cause.signature)
        signed.cause = cause
        return signed


def cause_of(entry: Entry) -> ErrorSignature | None:
    """The cause behind ``entry.signature`` if the entry was just read from files, else None.

    An entry decoded from the index holds the signature as a plain string;
    the index has the cause under the group's header instead.
    """
    signature = entry.signature
    return signature.cause if isinstance(signature, _Signature) else None


def damaged_entry(
    ident: str, reason: str, start: int | None = None, end: int | None = None
) -> Entry:
    """The Entry of a damaged resource: an error whose reason says what is damaged.

    Its signature is that of the reason's text, so damage groups as damage:
    every symlinked error.log together, every garbled status file by what
    it holds (normalised like any message).
    """
    return Entry(ident, ERROR, start, end, reason, "", _Signature(signature_of(reason, ident)))


def damaged_status_reason(word: str) -> str:
    """How a status word that is not a status is described (index reason, Resource.problem)."""
    if isinstance(word, _Unreadable):  # not the file's content: why it could not be read
        return f"{STATUS_FILE}: {word}"
    return f"damaged status file: {word[:40]!r}"


def damaged_dir_reason(problem: str) -> str:
    """How a resource "directory" that is a symlink or a file is described."""
    return f"resource directory damaged: {problem}"


def _as_ms(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_record(
    res_dir: StrPath,
    *,
    dir_checked: bool = False,
    ident: str | None = None,
    dir_fd: int | None = None,
) -> Entry | None:
    """What the index keeps of a resource, read from its directory (None if never started).

    ``status`` is what the files say: completed, pending, error or
    unavailable (the index records a pending one whose lock it found free
    as interrupted: see _liveness.settle). ``reason`` is an error's headline
    (type: first line), or a description of the damage for an unreadable
    status; ``signature`` the error's cause (see :func:`cause_of`), read
    from the same tail of error.log as the headline, or the damage's.
    ``host`` is meta.json's, for a pending resource only: the index needs
    it to tell a dead worker from another host's, and a mass death recorded
    from the index alone (see _index/sweep.py) needs it kept there.

    A "resource directory" that is a symlink or a file is damaged: an error
    record saying so, and nothing behind it is read. ``dir_checked`` skips
    that lstat when a directory scan (or a lock probe) has just seen a real
    directory there. ``ident``: the directory's name, when the caller has it.
    ``dir_fd``: a descriptor of the collection that a relative ``res_dir``
    (the ident) is in: a drain reads thousands of resources of one
    collection, and every lookup then starts there, not at ``/``.
    """
    if ident is None:
        ident = os.path.basename(res_dir)
    if not dir_checked:
        problem = directory_problem(res_dir, dir_fd)
        if problem is None:
            return None
        if problem:
            return damaged_entry(ident, damaged_dir_reason(problem))
    word = read_status(res_dir, dir_fd)
    if word is None:
        return None
    meta, meta_problem = read_meta_checked(res_dir, dir_fd)
    start, end = _as_ms(meta.get("start_time")), _as_ms(meta.get("end_time"))
    if is_damaged(word):
        return damaged_entry(ident, damaged_status_reason(word), start, end)
    if meta_problem:
        return damaged_entry(ident, meta_problem, start, end)
    if word == PENDING:
        host = meta.get("host")
        return Entry(ident, PENDING, start, end, "", host if isinstance(host, str) else "")
    if word != ERROR:
        return Entry(ident, word, start, end)
    try:
        reason, cause = _error_cause(os.path.join(res_dir, ERROR_FILE), ident, dir_fd)
    except RefusedFile as exc:
        return damaged_entry(ident, f"{ERROR_FILE}: {exc.reason}", start, end)
    return Entry(ident, ERROR, start, end, reason, "", _Signature(cause))


def scan_entries(coll_dir: StrPath) -> Iterator[tuple[str, str]]:
    """(name, problem) of every entry of a collection that stands where a resource would.

    ``problem`` is "" for a real directory, else why it is damaged (a symlink,
    even to a directory, or a file): such an entry reads as a damaged
    resource, never as a directory to look into. Names starting with a dot
    are hadrosaur's own. Uses the d_type that ``os.scandir`` already has, so
    no per-entry stat except for the odd entries.
    """
    with os.scandir(coll_dir) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield entry.name, ""
            elif entry.is_symlink():
                yield entry.name, SYMLINK_REFUSED
            else:
                try:
                    kind = describe_mode(entry.stat(follow_symlinks=False).st_mode)
                except FileNotFoundError:
                    continue  # removed since the listing
                yield entry.name, f"not a directory ({kind})"


def scan_idents(coll_dir: StrPath) -> Iterator[str]:
    """The names of a collection's resources, damaged ones included (see scan_entries)."""
    for name, _ in scan_entries(coll_dir):
        yield name
