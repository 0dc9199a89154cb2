"""The collections of a base directory: which directories are collections, found and opened.

A collection is a directory of BASE holding a ``.collection.json``, a
``.updates/`` (this version) or a ``.status/`` index (hadrosaur 0.4.1). BASE is
the user's and may itself be a symlink; nothing found inside it is followed,
so a collection that is a symlink is skipped with its reason, and a
collection whose ``.updates/`` is a link or a file is refused before anything
is written there.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from ._layout import COLLECTION_FILE, LEGACY_INDEX_DIR, UPDATES_DIR
from ._names import check_collection
from ._nofollow import require_directory
from .errors import InvalidName, UnknownCollection, UnreadableCollection

__all__ = (
    "LINKED_COLLECTION",
    "UNREADABLE_DIRECTORY",
    "SkippedDirectory",
    "current_user",
    "existing_collection_dir",
    "is_collection_dir",
    "make_updates_dir",
    "scan_collections",
)


def is_collection_dir(path: Path) -> bool:
    """True for a directory hadrosaur (this version or 0.4.1) has used as a collection."""
    return any(
        (path / marker).exists() for marker in (COLLECTION_FILE, UPDATES_DIR, LEGACY_INDEX_DIR)
    )


@dataclass(frozen=True)
class SkippedDirectory:
    """A directory of the base that looks like a collection but cannot be one.

    ``name`` is as found on disk (undecodable bytes as lone surrogates: show
    it with ``repr``); ``reason`` says why it was skipped.
    """

    name: str
    reason: str


#: Why a collection that is a symbolic link is skipped.
LINKED_COLLECTION = (
    "it is a symbolic link, and hadrosaur never follows one inside the base directory; "
    "move the collection into the base (or link the base directory itself instead)"
)


#: Why a directory of the base that this user may not look into is skipped.
UNREADABLE_DIRECTORY = (
    "permission denied: this user ({user}) cannot look into it, so it is read as no "
    "collection; ask its owner for read and search permission (chmod g+rx, o+rx) to see it"
)


def current_user() -> str:
    """This process's user as messages name it: ``"nobody, uid 65534"`` (or the uid alone)."""
    uid = os.geteuid()
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"


def scan_collections(base: Path) -> tuple[list[str], list[SkippedDirectory]]:
    """The collections of a base directory, and the directories skipped, both sorted.

    A directory whose name is not a valid collection name (undecodable bytes,
    a control character...) cannot be named in any call, and one that is a
    symbolic link is never followed (nothing found inside BASE is; BASE
    itself may be a link): both are skipped with their reason instead of
    stopping every overview of the base. So is a directory this user may not
    look into (another user's, mode 700): whether it is a collection cannot
    be told, and its PermissionError must not hide the collections beside it.
    """
    names: list[str] = []
    skipped: list[SkippedDirectory] = []
    try:
        with os.scandir(base) as entries:
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.is_symlink():
                    if is_collection_dir(Path(e.path)):
                        skipped.append(SkippedDirectory(e.name, LINKED_COLLECTION))
                    continue
                if not e.is_dir(follow_symlinks=False):
                    continue
                try:
                    if not is_collection_dir(Path(e.path)):
                        continue
                except PermissionError:
                    skipped.append(
                        SkippedDirectory(e.name, UNREADABLE_DIRECTORY.format(user=current_user()))
                    )
                    continue
                try:
                    names.append(check_collection(e.name))
                except InvalidName as exc:
                    skipped.append(
                        SkippedDirectory(e.name, f"not a valid collection name ({exc.reason})")
                    )
    except FileNotFoundError:
        return [], []
    return sorted(names), sorted(skipped, key=lambda s: s.name)


def existing_collection_dir(base: Path, name: str, defined: bool) -> Path:
    """The directory of an existing collection (name validated; RefusedPath if it is a link).

    A collection ``defined`` in this process exists even before its first
    resource: its ``.updates/`` is made again if it was removed. Otherwise
    the directory must look like a collection (UnknownCollection). One this
    user may not look into raises UnreadableCollection, which names the user.
    """
    name = check_collection(name)
    coll_dir = base / name
    require_directory(str(coll_dir), "a collection directory")
    try:
        if defined:
            with contextlib.suppress(FileExistsError):
                # A file or a link there: readers are served from a scan (see _markers).
                (coll_dir / UPDATES_DIR).mkdir(parents=True, exist_ok=True)
        elif not is_collection_dir(coll_dir):
            raise UnknownCollection(name, base)
    except PermissionError as exc:
        if os.access(coll_dir, os.R_OK | os.X_OK, effective_ids=True):
            raise  # the directory is readable: a problem further in, reported as it is
        raise UnreadableCollection(coll_dir, current_user()) from exc
    return coll_dir


def make_updates_dir(coll_dir: Path) -> None:
    """Create COLL/.updates/ (and COLL); RefusedPath if a link or a file stands there."""
    updates = coll_dir / UPDATES_DIR
    # Checked first: a plain file there made mkdir raise a bare FileExistsError.
    if not require_directory(str(updates), "a directory of markers"):
        updates.mkdir(parents=True, exist_ok=True)
        require_directory(str(updates), "a directory of markers")
