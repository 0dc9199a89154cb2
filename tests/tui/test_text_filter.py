"""Pilot tests of the text filter as typed: debounced, the last keystroke wins, run in slices.

The filter box matches the rows when typing pauses (``FILTER_DEBOUNCE``),
a slice of rows at a time, so keys are read while a large collection is
matched; ``enter``/``esc`` show what was typed at once; the cursor stays
on its resource.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from hadrosaur_tui.model import CollectionModel
from hadrosaur_tui.text_filter import SLICE_ROWS, TextFilterJob

from .harness import make_app, settle, wait_until
from .test_app import open_first_collection

pytestmark = pytest.mark.asyncio


def count_rebuilds(model: CollectionModel) -> list[int]:
    """How many times the model recomputed its view (each is a full pass over the rows)."""
    calls: list[int] = []
    rebuild = model._rebuild

    def counted() -> None:
        calls.append(1)
        rebuild()

    model._rebuild = counted  # type: ignore[method-assign]
    return calls


async def test_typing_fast_filters_once_for_the_last_text(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        rebuilds = count_rebuilds(screen.model)
        await pilot.press("slash")
        box = screen.query_one("#filter-input", Input)
        for key in "GCF_0007":  # faster than any typist: no pause between the keys
            box.insert_text_at_cursor(key)
        await wait_until(pilot, lambda: screen.model.text_filter == "GCF_0007")
        assert [r.ident for r in screen.model.rows(0, 20)] == ["GCF_0007"]
        # One view per pause in typing, not one per keystroke (8 keys typed).
        assert len(rebuilds) == 1, rebuilds


async def test_enter_shows_what_was_typed_at_once(sample_base: Path) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("slash", *"!000", "enter")
        assert screen.model.text_filter == "!000"
        assert [r.ident for r in screen.model.rows(0, 20)] == ["GCF_0010", "GCF_0011"]
        await pilot.press("slash", "end", "backspace", "escape")
        assert screen.model.text_filter == "!00"


async def test_the_cursor_stays_on_its_resource_when_the_filter_keeps_it(
    sample_base: Path,
) -> None:
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        await pilot.press("down", "down", "down", "down", "down", "down", "down")
        await settle(pilot)
        assert screen.selected == "GCF_0007"
        await pilot.press("slash", *"00", "enter")
        await settle(pilot)
        assert screen.selected == "GCF_0007"
        assert screen.table.cursor_row == screen.model.find("GCF_0007")
        await pilot.press("slash", "7", "enter")  # "007": it is the only row left
        assert screen.selected == "GCF_0007" and screen.table.cursor_row == 0


async def test_keys_typed_while_a_large_collection_is_matched_win(sample_base: Path) -> None:
    """400,000 rows take several slices: a key typed meanwhile is read, and its text wins."""
    app = make_app(sample_base)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_collection(pilot)
        model = screen.model
        model.extend([(f"zz{i:07d}", "completed", 1, 2, "") for i in range(400_000)])
        await pilot.press("slash")
        box = screen.query_one("#filter-input", Input)
        steps: list[tuple[str, int]] = []
        installed: list[str] = []
        step, finish = model.step_text_filter, model.finish_text_filter

        def recorded_step(job: TextFilterJob, rows: int | None = None) -> bool:
            done = step(job, rows)
            steps.append((job.text, job.done_rows))
            if job.text == "z" and len(steps) == 1:
                box.insert_text_at_cursor("z0001234")  # typed after the first slice
            return done

        def recorded_finish(job: TextFilterJob) -> None:
            finish(job)
            installed.append(model.text_filter)

        model.step_text_filter = recorded_step  # type: ignore[method-assign]
        model.finish_text_filter = recorded_finish  # type: ignore[method-assign]
        box.insert_text_at_cursor("z")
        await wait_until(pilot, lambda: model.text_filter == "zz0001234")
        assert installed == ["zz0001234"]  # "z" was never shown: a newer text replaced it
        assert steps[0] == ("z", SLICE_ROWS)
        assert max(done for text, done in steps if text == "z") < model.total
        assert [r.ident for r in model.rows(0, 5)] == ["zz0001234"]
