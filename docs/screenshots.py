"""Make the README's screenshots: the app on the demo pipeline, as SVG files in docs/.

Run: .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path

from hadrosaur.demo import run_demo
from hadrosaur_tui.app import HadrosaurApp
from hadrosaur_tui.screens.resources import ResourcesScreen

DOCS = Path(__file__).resolve().parent


async def shoot(base: Path) -> None:
    app = HadrosaurApp(base, poll_interval=0.5)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.pause(4.0)
        app.save_screenshot("collections.svg", str(DOCS))
        app.open_collection("downloads")
        await pilot.pause(1.5)
        assert isinstance(app.screen, ResourcesScreen)
        await pilot.press("down", "down")
        await pilot.pause(1.0)
        app.save_screenshot("resources.svg", str(DOCS))
        await pilot.press("x")
        await pilot.pause(0.5)
        await pilot.press("2")
        await pilot.pause(1.0)
        app.save_screenshot("errors.svg", str(DOCS))


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="hadrosaur-shots-")) / "base"
    pipeline = threading.Thread(
        target=run_demo, args=(base,), kwargs={"speed": 3.0, "rounds": 3, "quiet": True}
    )
    pipeline.start()
    asyncio.run(shoot(base))
    pipeline.join()
    print(f"screenshots written to {DOCS}")


if __name__ == "__main__":
    main()
