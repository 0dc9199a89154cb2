"""Shell completion of ``hadrosaur`` (bash, zsh, fish) with argcomplete.

At TAB time the shell runs ``hadrosaur`` with ``_ARGCOMPLETE`` set; ``main``
then hands the parser to argcomplete before anything else runs, and the
completers here answer from the base directory itself: collection names
(a directory listing) and idents (from the collection's index, at most
:data:`MAX_IDENTS`, waiting at most :data:`INDEX_WAIT` for a busy index).
A TAB must answer at once, so the index is only peeked at (_index/peek.py):
never rebuilt, drained or replaced by a scan; when it cannot be read so,
no idents are offered. Each answer is bounded by :data:`TIME_LIMIT`.
argcomplete is imported only then, so an ordinary run does not pay for it.

Which argument the word under the cursor is follows the BASE rule of
_base_directory.py, applied to the words typed so far and this one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .._collections import existing_collection_dir
from .._index.peek import peek_idents, peek_signatures
from ..display import needs_escaping
from ..errors import HadrosaurError
from ..project import Project
from ._base_directory import (
    base_from_environment,
    split_base,
    taken_without_base,
    typed_words,
)

__all__ = (
    "INDEX_WAIT",
    "MAX_IDENTS",
    "TIME_LIMIT",
    "complete",
    "complete_directory",
    "complete_group",
    "complete_positional",
)

#: Idents offered at most: a prefix narrows a long list, a TAB never lists a million.
MAX_IDENTS = 200
#: Seconds a TAB waits for an index that another process holds (then: no idents).
INDEX_WAIT = 0.3
#: Seconds one completion may take at most, all told (then: nothing is offered).
TIME_LIMIT = 0.5


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (argcomplete's protocol)."""
    import argcomplete

    # Options only once a "-" is typed: a bare TAB lists collections or idents, not flags.
    argcomplete.autocomplete(parser, always_complete_options=False)


def complete_positional(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The completions of a positional argument (BASE, COLL or IDENT) starting with ``prefix``.

    Every positional of a command has this completer: which one the cursor is
    on is worked out from the words before it, as the parser would. The whole
    answer takes at most :data:`TIME_LIMIT`: past it, nothing is offered.
    """
    return _within_time_limit(lambda: _complete_positional(prefix, parsed_args))


def _within_time_limit(answer: Callable[[], list[str]]) -> list[str]:
    """``answer()``, or nothing once :data:`TIME_LIMIT` has passed: a TAB never waits longer."""
    with _time_limit(TIME_LIMIT) as expired:
        try:
            return answer()
        except expired:
            return []
    return []  # pragma: no cover (the with block returns)


def _complete_positional(prefix: str, parsed_args: argparse.Namespace) -> list[str]:
    positionals: list[str] = getattr(parsed_args, "positionals", [])
    words = [*typed_words(parsed_args, positionals), prefix]
    base, rest = split_base(words, taken_without_base(positionals), base_from_environment())
    if base is None or not rest:  # the word under the cursor is BASE
        return complete_directory(prefix)
    role = _role(positionals, len(rest) - 1)
    try:
        proj = Project(base, create=False)
        if role == "COLL":
            return [c for c in proj.collections() if c.startswith(prefix)]
        if role == "IDENT":
            coll_dir = existing_collection_dir(proj.base, rest[0], defined=False)
            return peek_idents(coll_dir, prefix, MAX_IDENTS, INDEX_WAIT) or []
    except (HadrosaurError, OSError):
        pass  # no such base or collection, a busy index...: nothing to offer
    return []


def complete_group(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The signatures of the collection's error groups that start with ``prefix`` (--group).

    A peek at the index as it stands, like the idents' completion, within
    :data:`TIME_LIMIT`.
    """
    positionals: list[str] = getattr(parsed_args, "positionals", [])
    words = typed_words(parsed_args, positionals)
    base, rest = split_base(words, taken_without_base(positionals), base_from_environment())
    if base is None or not rest:
        return []
    collection = rest[0]

    def signatures() -> list[str]:
        try:
            coll_dir = existing_collection_dir(Path(base), collection, defined=False)
            return peek_signatures(coll_dir, prefix, MAX_IDENTS, INDEX_WAIT) or []
        except (HadrosaurError, OSError):
            return []  # no such base or collection, a busy index...: nothing to offer

    return _within_time_limit(signatures)


class _Expired(Exception):
    """The time of one completion ran out (raised by the timer's signal handler)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[type[_Expired]]:
    """Raise :class:`_Expired` in the block once ``seconds`` have passed (main thread only).

    A real-time timer, as ``timeout(1)`` would: the shell waits for this
    process, and nothing it does at TAB time is worth a wait the user notices.
    The handler runs between bytecodes, so a LevelDB call in C ends first.
    """
    if threading.current_thread() is not threading.main_thread():
        yield _Expired  # signals reach the main thread only: no bound here
        return

    def expire(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield _Expired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _role(positionals: Sequence[str], index: int) -> str:
    """``COLL`` or ``IDENT`` for the index-th argument after BASE; "" past the last one."""
    if index < len(positionals):
        return positionals[index].rstrip("?*")
    if positionals and positionals[-1].endswith("*"):
        return positionals[-1].rstrip("*")
    return ""


def complete_directory(prefix: str, **_: Any) -> list[str]:
    """Directories starting with ``prefix`` (for BASE), each ending in ``/``; never a file.

    Ours rather than argcomplete's DirectoriesCompleter, which hands the shell
    any name as it is: a directory named with ESC, BEL, a C1 control (U+009B
    is a CSI) or a bidi override would reach the terminal raw, inserted into
    the command line. Such names, and names that are not valid Unicode, are
    left out (the characters are display.py's; tab and newline as well).
    A name starting with ``.`` is offered only once a ``.`` is typed, as bash does.
    """
    typed_dir, typed_name = os.path.split(prefix)
    found: list[str] = []
    try:
        with os.scandir(os.path.expanduser(typed_dir) or ".") as entries:
            for entry in entries:
                name = entry.name
                if not name.startswith(typed_name) or not _offerable(name, typed_name):
                    continue
                with contextlib.suppress(OSError):  # vanished, or a link to nowhere
                    if entry.is_dir():  # a link to a directory is a fine BASE
                        found.append(os.path.join(typed_dir, name) + "/")
    except OSError:
        return []  # no such directory, or not ours to list: nothing to offer
    return sorted(found)


def _offerable(name: str, typed: str) -> bool:
    """Whether a directory name may go to the shell: no control, C1 or bidi character."""
    if name.startswith(".") and not typed.startswith("."):
        return False
    try:
        name.encode()
    except UnicodeEncodeError:  # undecodable bytes, read as lone surrogates
        return False
    return not (needs_escaping(name) or "\t" in name or "\n" in name)
