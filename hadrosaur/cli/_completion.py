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
from collections.abc import Sequence
from typing import Any

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
    "complete_group",
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


def complete_group(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """The signatures of the collection's error groups that start with ``prefix`` (--group).

    One seek in the index's group counts: as cheap as the idents' completion.
    """
    positionals: list[str] = getattr(parsed_args, "positionals", [])
    words = typed_words(parsed_args, positionals)
    base, rest = split_base(words, taken_without_base(positionals), base_from_environment())
    if base is None or not rest:
        return []
    try:
        proj = Project(base, create=False, index_timeout=INDEX_WAIT)
        with proj.view(rest[0]) as view:
            return view.signatures_starting(prefix)[:MAX_IDENTS]
    except (HadrosaurError, OSError):
        return []  # no such base or collection, a busy index...: nothing to offer


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
    """Directories starting with ``prefix`` (for BASE)."""
    from argcomplete.completers import DirectoriesCompleter

    return list(DirectoriesCompleter()(prefix))
