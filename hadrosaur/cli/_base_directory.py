"""Where a command's BASE comes from: its first argument, or ``$HADROSAUR_BASE``.

Without ``HADROSAUR_BASE`` every command takes BASE first, as always. With
it, BASE may be left out, and the arguments tell whether it was:

- a first argument written as a path (it holds a ``/`` or starts with
  ``.``: ``./base``, ``/data/base``, ``base/``) is BASE, because no
  collection name can look like that;
- so is the first of more arguments than the command takes without BASE
  (``hadrosaur ls base genomes``: ls takes one, COLL);
- otherwise the arguments start at COLL, and BASE is ``$HADROSAUR_BASE``.

An explicit BASE therefore always wins. The same rule serves the parser and
the shell completion (which sees the words typed so far).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

__all__ = (
    "BASE_ENV",
    "POSITIONALS",
    "base_from_environment",
    "split_base",
    "taken_without_base",
    "typed_words",
    "written_as_path",
)

#: The environment variable that names the base directory when BASE is left out.
BASE_ENV = "HADROSAUR_BASE"


#: The positional arguments after BASE, by the names the command table uses:
#: argparse's keywords for each (``?`` optional, ``*`` any number).
POSITIONALS: dict[str, dict[str, Any]] = {
    "COLL": {"dest": "collection", "help": "the collection"},
    "COLL?": {"dest": "collection", "nargs": "?", "help": "only this collection"},
    "IDENT": {"dest": "ident", "help": "the resource ident"},
    "IDENT*": {"dest": "idents", "nargs": "*", "help": "the resources to recompute"},
}


def taken_without_base(positionals: Sequence[str]) -> int | None:
    """How many positional arguments a command takes after BASE at most (None: no limit)."""
    return None if any(p.endswith("*") for p in positionals) else len(positionals)


def typed_words(args: argparse.Namespace, positionals: Sequence[str]) -> list[str]:
    """The positional words argparse found, in the order typed (it fills them in order).

    argparse puts them into BASE first when it may; which is BASE is decided
    afterwards, by :func:`split_base`.
    """
    words: list[str] = []
    if getattr(args, "base", None) is not None:
        words.append(str(args.base))
    for positional in positionals:
        given = getattr(args, POSITIONALS[positional]["dest"], None)
        words.extend(given if isinstance(given, list) else [] if given is None else [given])
    return words


def base_from_environment() -> str | None:
    """``$HADROSAUR_BASE``, or None when it is unset or empty."""
    return os.environ.get(BASE_ENV) or None


def written_as_path(word: str) -> bool:
    """True for a word that no collection name can be: it holds a ``/`` or starts with ``.``.

    Example:
        >>> written_as_path("./base"), written_as_path("genomes")
        (True, False)
    """
    return "/" in word or word.startswith(".")


def split_base(
    words: Sequence[str], taken_without_base: int | None, env_base: str | None
) -> tuple[str | None, list[str]]:
    """(BASE, the other positional arguments) by the rule of this module.

    Args:
        words: the positional arguments as typed, BASE included if it was.
        taken_without_base: how many the command takes after BASE at most
            (None: no limit, as recompute's idents).
        env_base: ``$HADROSAUR_BASE`` (None when unset): without it, the
            first word is always BASE.

    Returns:
        BASE (None when nothing gives one) and the words after it.

    Example:
        >>> split_base(["genomes"], 1, "/data/base")
        ('/data/base', ['genomes'])
        >>> split_base(["./other", "genomes"], 1, "/data/base")
        ('./other', ['genomes'])
    """
    words = list(words)
    if env_base is None or (
        words
        and (
            written_as_path(words[0])
            or (taken_without_base is not None and len(words) > taken_without_base)
        )
    ):
        return (words[0], words[1:]) if words else (None, [])
    return env_base, words
