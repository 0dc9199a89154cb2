"""Hostile text in a base directory: shown visibly, never sent raw, never read as markup.

A collection ``c[`` and idents ``x]`` and ``ok-[@click=app.quit]clickme`` are
valid names; logs, tracebacks and results may hold any escape sequence. The
app must show all of them as text: no MarkupError, no clickable action, no
escape sequence in what it draws.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from hadrosaur.display import BIDI_CONTROLS
from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.screens.confirm import ConfirmScreen
from hadrosaur_tui.screens.resources import ResourcesScreen

from .harness import make_app, settle, wait_until
from .sample import CLICK, HOSTILE, HOSTILE_SHOWN, build_hostile_base

pytestmark = pytest.mark.asyncio


def raw_controls(text: str) -> list[str]:
    """What a terminal would act on: C0 (but newline), DEL, C1, bidi formatting."""
    return [
        c
        for c in text
        if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F or ord(c) in BIDI_CONTROLS
    ]


def screen_text(app: HadrosaurApp) -> str:
    """Every character the app draws on the screen now, toasts included, row by row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def assert_drawn(pilot: Pilot[object], *needles: str) -> str:
    """Wait until the screen shows every needle; check it never holds a raw control."""
    app = pilot.app
    assert isinstance(app, HadrosaurApp)
    text = ""

    def shown() -> bool:
        nonlocal text
        text = screen_text(app)
        assert not raw_controls(text), raw_controls(text)
        return all(n in text for n in needles)

    try:
        await wait_until(pilot, shown, timeout=10)
    except AssertionError:
        raise AssertionError(f"{needles} not on screen:\n{text}") from None
    return text


async def open_hostile_collection(pilot: Pilot[object]) -> ResourcesScreen:
    app = pilot.app
    assert isinstance(app, HadrosaurApp)
    await wait_until(pilot, lambda: "c[" in app.collections_screen.summaries)
    assert app.collections.index("c[") == 0
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ResourcesScreen) and screen.model.name == "c["
    return screen


async def select(pilot: Pilot[object], screen: ResourcesScreen, ident: str) -> None:
    screen.table.move_cursor(screen.model.find(ident) or 0)
    await settle(pilot)
    assert screen.detail.data is not None and screen.detail.data.ident == ident


async def test_names_in_the_tables_and_titles_are_shown_visibly(tmp_path: Path) -> None:
    app = make_app(build_hostile_base(tmp_path / "base"))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_until(pilot, lambda: "c[" in app.collections_screen.summaries)
        # A directory hadrosaur itself would refuse to create: skipped, named in the
        # status line with its controls escaped.
        await assert_drawn(pilot, "skipped 1 directory", "'dir\\x1b]0;pwned\\x07coll'", "c[")
        await open_hostile_collection(pilot)
        await assert_drawn(pilot, "hadrosaur · c[", "x]", CLICK, "<U+202E>evil")


async def test_log_error_result_and_info_tabs_show_controls_visibly(tmp_path: Path) -> None:
    app = make_app(build_hostile_base(tmp_path / "base"))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        screen = await open_hostile_collection(pilot)
        await select(pilot, screen, "x]")
        await assert_drawn(pilot, HOSTILE_SHOWN, "progress 10%^Mprogress 20%", "windows line")
        assert "windows line^M" not in screen_text(app), "the CR of CRLF is not shown"
        await pilot.press("2")
        await assert_drawn(pilot, f"ValueError: {HOSTILE_SHOWN}")
        await pilot.press("4")
        await assert_drawn(pilot, "Ident", "x]")
        await select(pilot, screen, CLICK)
        await pilot.press("3")
        # JSON writes C0 controls as \u escapes; C1 and bidi are drawn in visible form.
        await assert_drawn(pilot, '"\\u001b]0;pwned\\u0007', "<U+009B>31m <U+202E>evil [b]not")
        await pilot.press("4")
        await assert_drawn(pilot, CLICK)


async def test_copy_and_recompute_with_markup_in_the_names(tmp_path: Path) -> None:
    app = make_app(build_hostile_base(tmp_path / "base"))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        screen = await open_hostile_collection(pilot)
        for ident in ("x]", CLICK):
            await select(pilot, screen, ident)
            await pilot.press("c")  # notifies "Copied BASE/c[/IDENT": was a MarkupError
            await assert_drawn(pilot, "Copied", f"base/c[/{ident}")
            assert app.clipboard.endswith(f"c[/{ident}")
            await pilot.press("r")
            assert isinstance(app.screen, ConfirmScreen)
            await assert_drawn(pilot, f"Recompute c[/{ident}?")
            await pilot.press("n")
            assert isinstance(app.screen, ResourcesScreen)
        assert app.is_running and app.return_code is None, "the markup in an ident ran an action"


async def test_a_notification_is_text_whatever_it_says(tmp_path: Path) -> None:
    base = build_hostile_base(tmp_path / "base")
    app = make_app(base)
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await settle(pilot)
        app.notify(f"[b]{CLICK}[/b]\n{HOSTILE}", title="title [i]\x1b]0;pwned\x07")
        # A toast wraps long lines at spaces: look for the pieces.
        pieces = [f"[b]{CLICK}[/b]", *HOSTILE_SHOWN.split(" ")]
        await assert_drawn(pilot, "title [i]^[]0;pwned^G", *pieces)
        assert app.is_running
