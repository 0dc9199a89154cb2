"""Helpers to drive the app in tests: a fixed clock, and waiting for it to settle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.screens.resources import ResourcesScreen

from .sample import NOW

__all__ = ("make_app", "settle", "wait_until")


def make_app(base: Path, **kwargs: object) -> HadrosaurApp:
    """An app with the fixed clock, polling instead of watching unless asked."""
    options: dict[str, object] = {"clock": lambda: NOW, "watch": False, "poll_interval": 0.3}
    options.update(kwargs)
    return HadrosaurApp(base, **options)  # type: ignore[arg-type]


async def wait_until(
    pilot: Pilot[object], condition: Callable[[], object], timeout: float = 15.0
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)
    await pilot.pause()


async def settle(pilot: Pilot[object]) -> None:
    """Wait until the screen on top shows everything it will show without new changes."""
    app = pilot.app
    assert isinstance(app, HadrosaurApp)
    await wait_until(pilot, lambda: app.collections_screen.summaries or not app.collections)
    screen = app.screen
    if isinstance(screen, ResourcesScreen):
        await wait_until(pilot, lambda: screen.model.loaded)
        await wait_until(
            pilot,
            lambda: (
                screen.selected is None
                or (screen.detail.data is not None and screen.detail.data.ident == screen.selected)
            ),
        )
    await asyncio.sleep(0.1)
    await pilot.pause()
