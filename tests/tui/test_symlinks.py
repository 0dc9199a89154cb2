"""The monitor never shows what a symlink inside BASE points at.

A collection holds a resource whose status, meta.json, result.json, run.log
or error.log links to a secret file outside the base directory, and one
whose directory links to a directory of secret files. Selecting each one,
no tab (Log, Error, Result, Info) shows the secret; the Log tab shows a
one-line note instead of a linked log.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur_tui.app import HadrosaurApp

from .harness import make_app, settle
from .test_app import open_first_collection

pytestmark = pytest.mark.asyncio

SECRET = "SECRET-CONTENT"
LINKED = {
    "link-status": "status",
    "link-meta": "meta.json",
    "link-result": "result.json",
    "link-log": "run.log",
    "fail-link-error": "error.log",
}


def _compute(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info("own log line of %s", ident)
    if ident.startswith("fail"):
        raise ValueError(f"failing on purpose: {ident}")
    return {"ident": ident}


def _screen_text(app: HadrosaurApp) -> str:
    """The text on screen, from the SVG screenshot: tags dropped, entities decoded."""
    svg = re.sub(r">\s+<", "><", app.export_screenshot())
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


@pytest.fixture
def linked_base(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("status", "meta.json", "result.json", "run.log", "error.log", "secret"):
        (outside / name).write_text(f"{SECRET} {name}\n")
    base = tmp_path / "base"
    proj = Project(base)
    proj.resource("c")(_compute)
    for ident in LINKED:
        proj.fetch("c", ident)
    coll = base / "c"
    for ident, name in LINKED.items():
        (coll / ident / name).unlink(missing_ok=True)
        (coll / ident / name).symlink_to(outside / "secret")
        (coll / ".updates" / ident).touch()
    (coll / "link-dir").symlink_to(outside)
    (coll / ".updates" / "link-dir").touch()
    return base


async def test_no_tab_shows_what_a_link_points_at(linked_base: Path) -> None:
    app = make_app(linked_base)
    seen: dict[str, str] = {}
    notes: dict[str, str] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_first_collection(pilot)
        assert isinstance(app, HadrosaurApp)
        for _ in range(len(LINKED) + 1):
            await settle(pilot)
            ident = screen.selected
            assert ident is not None and screen.detail.data is not None
            texts = [repr(screen.detail.data), screen.detail.log_view.log_text()]
            notes[ident] = screen.detail.log_view.refused
            for tab in ("1", "2", "3", "4"):
                await pilot.press(tab)
                await pilot.pause()
                texts.append(_screen_text(app))
            await pilot.press("1")
            seen[ident] = "\n".join(texts)
            await pilot.press("down")
    assert sorted(seen) == sorted([*LINKED, "link-dir"])
    for ident, text in seen.items():
        assert SECRET not in text, ident
        assert "symlink" in text or "symbolic link" in text, ident
    assert notes["link-log"].startswith("Not shown: run.log is a symbolic link")
    assert notes["link-dir"].startswith("Not shown: link-dir is a symbolic link")


async def test_the_log_tab_shows_a_note_for_a_linked_log(linked_base: Path) -> None:
    app = make_app(linked_base)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_first_collection(pilot)
        while screen.selected != "link-log":
            await pilot.press("down")
            await settle(pilot)
        log = screen.detail.log_view
        assert log.refused.startswith("Not shown: run.log is a symbolic link")
        assert log.line_count == 0
        assert "Not shown: run.log is a symbolic link" in _screen_text(app)
