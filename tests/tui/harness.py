"""Helpers to drive the app in tests: a fixed clock, waiting for it to settle, and a
collector of what the background threads post."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.message import Message
from textual.pilot import Pilot

from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.screens.resources import ResourcesScreen

from ..helpers import wait_for
from .sample import NOW

__all__ = ("Posted", "compute", "make_app", "run_in_thread", "settle", "wait_until")

M = TypeVar("M", bound=Message)


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


def compute(ident: str, args: Any, ctx: Any) -> Any:
    """A collection's function: logs a line; fails for idents starting with 'fail'."""
    ctx.logger.info("computing %s", ident)
    if ident.startswith("fail"):
        raise ValueError(f"failing on purpose: {ident}")
    return {"ident": ident}


class Posted:
    """The messages a reader posted, collected from its thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        with self._lock:
            self._messages.append(message)

    def of(self, kind: type[M]) -> list[M]:
        with self._lock:
            return [m for m in self._messages if isinstance(m, kind)]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def wait(self, kind: type[M], condition: Callable[[M], object] = bool) -> M:
        """The first message of ``kind`` for which ``condition`` holds, once it is posted."""
        found: list[M] = []

        def arrived() -> bool:
            found[:] = [m for m in self.of(kind) if condition(m)]
            return bool(found)

        wait_for(arrived, timeout=30)
        return found[0]


def run_in_thread(
    request: pytest.FixtureRequest, run: Callable[[], object], stop: Callable[[], object]
) -> None:
    """Run a background loop (the reader's, the watcher's) in a thread; stop and join it
    after the test, failing the test if it does not end."""
    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> None:
        stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), f"{run} did not stop"

    request.addfinalizer(join)
