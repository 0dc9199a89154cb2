"""The monitor and other hosts: which hosts are computing, and a dead one's resource turning
interrupted, with real workers in another UTS namespace (see tests/test_hosts.py)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hadrosaur_tui.widgets.status_line import StatusLine

from ..helpers import on_host, unshare_works, wait_for
from ..test_hosts import PIPELINE, started
from .harness import make_app, settle, wait_until

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(not unshare_works(), reason="unshare --uts is not permitted here"),
]


@pytest.fixture
def workers(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Two workers on nodeb and one on nodec, each computing one resource for two minutes."""
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    monkeypatch.setenv("HADROSAUR_TEST_BASE", str(base))
    monkeypatch.setenv("HADROSAUR_LEASE_INTERVAL", "0.25")
    found = {}
    for ident, host in (("b1", "nodeb"), ("b2", "nodeb"), ("c1", "nodec")):
        found[ident] = on_host(
            host,
            tmp_path,
            f"""
            from pipeline import proj
            proj.fetch("items", {ident!r}, {{"sleep": 120}})
            """,
        )
    try:
        wait_for(
            lambda: all(
                started(tmp_path, ident, host)
                for ident, host in (("b1", "nodeb"), ("b2", "nodeb"), ("c1", "nodec"))
            )
        )
        yield found
    finally:
        for child in found.values():
            child.send_signal(signal.SIGKILL)
            child.communicate()


async def test_the_monitor_shows_hosts_computing_and_a_dead_workers_resource_interrupted(
    base: Path, workers: dict[str, subprocess.Popen[str]]
) -> None:
    app = make_app(base, poll_interval=0.3)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        line = app.screen.query_one(StatusLine)
        await wait_until(pilot, lambda: line.computing == (("nodeb", 2), ("nodec", 1)))
        assert "computing on nodeb 2 · nodec 1" in str(line.render())
        workers["b1"].kill()
        workers["b1"].communicate()
        screen = app.screen
        await wait_until(
            pilot,
            lambda: screen.model.counts()["interrupted"] == 1,  # type: ignore[attr-defined]
            timeout=60,
        )
        row = screen.model.row(screen.model.find("b1"))  # type: ignore[attr-defined]
        assert row.status == "interrupted"
        await wait_until(pilot, lambda: line.computing == (("nodeb", 1), ("nodec", 1)))
        assert screen.model.counts()["pending"] == 2  # type: ignore[attr-defined]
