"""hadrosaur-tui: a live terminal monitor of a hadrosaur base directory.

Run ``hadrosaur-tui ./base_directory`` (or ``hadrosaur tui DIR``), or
``hadrosaur-tui --demo`` to watch a small demo pipeline.
"""

from __future__ import annotations

from .app import HadrosaurApp, run

__all__ = ("HadrosaurApp", "run")
