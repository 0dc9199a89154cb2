"""Shell completion of ``hadrosaur`` (bash, zsh, fish) with argcomplete.

At TAB time the shell runs ``hadrosaur`` with ``_ARGCOMPLETE`` set; ``main``
then hands the parser to argcomplete before anything else runs, and the
completers here answer from the base directory itself: collection names
(a directory listing) and idents (from the collection's index, at most
:data:`MAX_IDENTS`, waiting at most :data:`INDEX_WAIT` for a busy index).
argcomplete is imported only then, so an ordinary run does not pay for it.

Which argument the word under the cursor is follows the BASE rule of
_base_directory.py, applied to the words typed so far and this one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Sequence
from typing import Any

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
    "complete",
    "complete_directory",
    "complete_positional",
)

#: Idents offered at most: a prefix narrows a long list, a TAB never lists a million.
MAX_IDENTS = 200
#: Seconds a TAB waits for an index that another process holds (then: no idents).
INDEX_WAIT = 0.5


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request and exit (argcomplete's protocol)."""
    import argcomplete

    # Options only once a "-" is typed: a bare TAB lists collections or idents, not flags.
    argcomplete.autocomplete(parser, always_complete_options=False)


def complete_positional(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The completions of a positional argument (BASE, COLL or IDENT) starting with ``prefix``.

    Every positional of a command has this completer: which one the cursor is
    on is worked out from the words before it, as the parser would.
    """
    positionals: list[str] = getattr(parsed_args, "positionals", [])
    words = [*typed_words(parsed_args, positionals), prefix]
    base, rest = split_base(words, taken_without_base(positionals), base_from_environment())
    if base is None or not rest:  # the word under the cursor is BASE
        return complete_directory(prefix)
    role = _role(positionals, len(rest) - 1)
    try:
        if role == "COLL":
            return [c for c in Project(base, create=False).collections() if c.startswith(prefix)]
        if role == "IDENT":
            return _idents(Project(base, create=False, index_timeout=INDEX_WAIT), rest[0], prefix)
    except (HadrosaurError, OSError):
        pass  # no such base or collection, a busy index...: nothing to offer
    return []


def _role(positionals: Sequence[str], index: int) -> str:
    """``COLL`` or ``IDENT`` for the index-th argument after BASE; "" past the last one."""
    if index < len(positionals):
        return positionals[index].rstrip("?*")
    if positionals and positionals[-1].endswith("*"):
        return positionals[-1].rstrip("*")
    return ""


def _idents(proj: Project, collection: str, prefix: str) -> list[str]:
    """Idents of the collection that start with ``prefix``: one seek in the index, capped."""
    with proj.view(collection) as view:
        found = [prefix] if prefix and view.entry(prefix) is not None else []
        for entry in view.entries(after=prefix or None, limit=MAX_IDENTS):
            if not entry.ident.startswith(prefix):
                break
            found.append(entry.ident)
    return found


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
