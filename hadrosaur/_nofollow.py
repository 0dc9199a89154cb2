"""Opening what lies inside BASE without trusting it: no symlink followed, only regular files read.

Nothing inside the base directory is trusted (DESIGN.md section 9): a person
or a stray tool may have put a symlink to ``/etc/shadow`` where ``status``
should be, a FIFO where ``run.log`` should be, or made a resource directory a
link to some other directory. So every file hadrosaur reads there is opened
with :func:`open_regular`:

- ``O_NOFOLLOW``: a symlink as the last path component fails with ``ELOOP``
  instead of opening its target;
- ``O_NONBLOCK``: opening a FIFO for reading would otherwise wait for a
  writer for ever; with it the open returns at once (it has no effect on a
  regular file);
- one ``fstat`` of the open descriptor: anything but a regular file (a FIFO,
  a device, a directory) is refused before a byte is read. The same fstat
  gives the size, so reading a whole file takes one ``read``, not two.

``O_NOFOLLOW`` guards the last component only. The directories above a file
(the collection, the resource directory, ``storage/``) are checked with one
``lstat`` each where a read or a compute starts (:func:`directory_problem`).
Someone who swaps a directory for a link between that lstat and the open
wins the race: that is outside the model, which is "odd files were left in
BASE", not "an attacker with write access to BASE races hadrosaur" (such an
attacker could write the files hadrosaur reads directly). Cost on a fetch:
one lstat of the resource directory and one fstat per file read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import RefusedPath

__all__ = (
    "DIRECTORY",
    "REGULAR_FILE",
    "SYMLINK",
    "SYMLINK_REFUSED",
    "RefusedFile",
    "describe_mode",
    "directory_problem",
    "open_regular",
    "path_kind",
    "read_regular",
    "require_directory",
)

#: The reason given for a symlink found where hadrosaur expects a file or directory.
SYMLINK_REFUSED = "symlink refused"
SYMLINK = "a symbolic link"
DIRECTORY = "a directory"
REGULAR_FILE = "a regular file"

_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


class RefusedFile(OSError):
    """A path inside BASE that is not what the layout says (a symlink, a FIFO, a directory...).

    Raised as ``RefusedFile(errno, reason, path)``, like any OSError, so that it
    pickles; ``reason`` is a short description such as ``symlink refused``.
    Callers turn it into a damage description; it never reaches a user raw.
    """

    @property
    def reason(self) -> str:
        return str(self.strerror)


def describe_mode(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a symbolic link", "a FIFO"...)."""
    if stat.S_ISLNK(mode):
        return SYMLINK
    if stat.S_ISDIR(mode):
        return DIRECTORY
    if stat.S_ISREG(mode):
        return REGULAR_FILE
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _refusal(mode: int) -> str:
    return SYMLINK_REFUSED if stat.S_ISLNK(mode) else f"not a regular file ({describe_mode(mode)})"


def open_regular(
    path: str | os.PathLike[str], dir_fd: int | None = None
) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without following a final symlink; (descriptor, fstat).

    ``dir_fd``: a descriptor of the directory a relative ``path`` starts from
    (a drain names thousands of files in one collection: shorter lookups).

    Raises:
        FileNotFoundError, NotADirectoryError: nothing there (or a parent is not a directory).
        RefusedFile: a symlink, FIFO, device, socket or directory is there.
    """
    try:
        fd = os.open(path, _READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        # With O_NOFOLLOW, ELOOP means "the last component is a symlink".
        if exc.errno == errno.ELOOP:
            raise RefusedFile(errno.ELOOP, SYMLINK_REFUSED, os.fspath(path)) from None
        # ENXIO: opening a UNIX socket (no device behind it) fails before any fstat.
        if exc.errno == errno.ENXIO:
            raise RefusedFile(
                errno.ENXIO, "not a regular file (a socket)", os.fspath(path)
            ) from None
        raise
    try:
        st = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise RefusedFile(errno.EINVAL, _refusal(st.st_mode), os.fspath(path))
    return fd, st


def read_regular(
    path: str | os.PathLike[str],
    limit: int = -1,
    max_size: int | None = None,
    dir_fd: int | None = None,
) -> bytes | None:
    """The bytes of a regular file (its first ``limit`` bytes if given); None when missing.

    ``max_size``: a file larger than this is refused (RefusedFile) rather than
    read whole: a sparse multi-gigabyte file costs nothing on disk but would
    cost its size in memory.

    A whole file is read up to the size fstat saw: the content as of that
    moment, in one ``read`` for any small file. Bytes appended afterwards (a
    growing log) are left for the next read, as they would be had they come
    a moment later.

    ``dir_fd``: see :func:`open_regular`.

    Raises:
        RefusedFile: not a regular file (see :func:`open_regular`).
        OSError: an I/O error.
    """
    try:
        fd, st = open_regular(path, dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        if max_size is not None and st.st_size > max_size:
            raise RefusedFile(
                errno.EFBIG,
                f"too large ({st.st_size:,} bytes; at most {max_size:,} expected)",
                os.fspath(path),
            )
        if limit >= 0:
            return os.read(fd, limit) if limit else b""
        chunks = []
        remaining = st.st_size
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break  # truncated since the fstat
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def path_kind(path: str | os.PathLike[str], dir_fd: int | None = None) -> str | None:
    """What is at ``path`` without following a symlink ("a directory", "a symbolic link"...).

    None when nothing is there. One lstat (relative to ``dir_fd`` if given).
    """
    try:
        return describe_mode(os.lstat(path, dir_fd=dir_fd).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return None


def directory_problem(path: str | os.PathLike[str], dir_fd: int | None = None) -> str | None:
    """ "" when ``path`` is a real directory, None when nothing is there, else why it is refused.

    One lstat: a symlink is reported, never followed, even when it points at
    a directory. Telling "missing" apart lets a reader skip files that
    cannot exist.
    """
    kind = path_kind(path, dir_fd)
    if kind is None or kind == DIRECTORY:
        return None if kind is None else ""
    if kind == SYMLINK:
        return SYMLINK_REFUSED
    return f"not a directory ({kind})"


def require_directory(path: str, expected: str) -> bool:
    """True if ``path`` is a real directory, False if nothing is there.

    Checked once where a compute starts, before anything is written or
    deleted inside: every later operation names files in this directory by
    path, and the lstat here is what says the path does not lead elsewhere
    (see the module docstring for the race this leaves open).

    Raises:
        RefusedPath: a symlink (even to a directory) or a file is there.
    """
    kind = path_kind(path)
    if kind is None:
        return False
    if kind != DIRECTORY:
        raise RefusedPath(Path(path), kind, expected)
    return True
