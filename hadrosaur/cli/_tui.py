"""``hadrosaur tui``: the live monitor, as ``hadrosaur-tui`` starts it."""

from __future__ import annotations

import argparse
import importlib

from ..errors import HadrosaurError

__all__ = ("cmd_tui",)


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        app = importlib.import_module("hadrosaur_tui.app")
    except ModuleNotFoundError as exc:
        if exc.name not in ("hadrosaur_tui", "hadrosaur_tui.app"):
            raise HadrosaurError(f"the TUI cannot start: {exc}") from exc
        app = None
    run = getattr(app, "run", None)
    if not callable(run):
        raise HadrosaurError(
            "the TUI is not installed (no hadrosaur_tui.app.run); install hadrosaur with its "
            "TUI, or use the other hadrosaur commands"
        )
    return int(run(args.base))
