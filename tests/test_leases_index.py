"""Readers' watches of other hosts' leases, kept in the index (hadrosaur/_index/leases.py).

Another host is written here as its worker would leave a resource: meta.json
naming host "nodeb" and a lease interval, status pending, a change marker.
(tests/test_hosts.py does the same with real processes of another host name.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from hadrosaur import Project, _markers
from hadrosaur._index import CollectionIndex
from hadrosaur._lease import write_lease

from .helpers import wait_for

INTERVAL = 0.1


def _pending_on_nodeb(
    base: Path, ident: str, start: int = 1, lease: float | None = INTERVAL
) -> Path:
    res_dir = base / "items" / ident
    res_dir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {"start_time": start, "end_time": None, "args": {}, "pid": 1}
    meta.update(host="nodeb", attempt=1)
    if lease is not None:
        meta["lease"] = lease
    (res_dir / "meta.json").write_text(json.dumps(meta))
    (res_dir / "status").write_text("pending")
    _markers.touch_marker(base / "items", ident)
    return res_dir


def _interrupted(base: Path) -> list[str]:
    # A new Project each time: a reader that lives for one call, as `hadrosaur stats` does.
    return Project(base, create=False).fetch_by_status("items", "interrupted")


def test_a_lease_never_renewed_expires_across_short_lived_readers(base: Path) -> None:
    (base / "items").mkdir(parents=True)
    _pending_on_nodeb(base, "dead")
    assert _interrupted(base) == []  # the first reader begins the watch: it cannot know yet
    wait_for(lambda: _interrupted(base) == ["dead"], timeout=30)
    # Recorded in the index: the watch is over, and no later reader probes it again.
    with CollectionIndex(base / "items") as index:
        assert index.get("dead") is not None
        assert list(index.store.iterator(prefix=b"o/")) != []
        assert [
            k for k in index.store.iterator(prefix=b"o/", include_value=False) if b"\0" in k
        ] == []


def test_a_renewed_lease_stays_pending_and_an_old_writer_without_lease_too(base: Path) -> None:
    (base / "items").mkdir(parents=True)
    live = _pending_on_nodeb(base, "live")
    _pending_on_nodeb(base, "old", lease=None)  # written before leases: nothing to watch
    proj = Project(base, create=False)
    until = time.monotonic() + 20 * INTERVAL
    beat = 0
    while time.monotonic() < until:
        beat += 1
        write_lease(str(live), b"%d" % beat)
        assert proj.stats("items")["counts"]["pending"] == 2
        time.sleep(INTERVAL / 2)
    time.sleep(10 * INTERVAL)  # live stops renewing: it is now dead; old still is not judged
    wait_for(lambda: _interrupted(base) == ["live"], timeout=30)
    assert proj.fetch_by_status("items", "pending") == ["old"]


def test_a_new_attempt_after_the_watch_expired_is_not_recorded_interrupted(base: Path) -> None:
    """The lease was watched expire for start time 1; the files now hold attempt 2."""
    (base / "items").mkdir(parents=True)
    with CollectionIndex(base / "items") as index:
        pass
    _pending_on_nodeb(base, "x", start=1)
    with CollectionIndex(base / "items") as index:
        assert index.get("x") is not None
    _pending_on_nodeb(base, "x", start=2)  # another host began again (its marker waits)
    with CollectionIndex(base / "items") as index:
        probe = _markers.probe(base / "items", ["x"])
        probe.expired = {"x": 1}
        index._writer.apply_resources(["x"], probe)
        entry = index.get("x")
        assert entry is not None and (entry.status, entry.start_time) == ("pending", 2)
        probe.expired = {"x": 2}
        index._writer.apply_resources(["x"], probe)
        entry = index.get("x")
        assert entry is not None and entry.status == "interrupted"


def test_a_watch_from_another_boot_starts_again(base: Path) -> None:
    (base / "items").mkdir(parents=True)
    _pending_on_nodeb(base, "x")
    assert _interrupted(base) == []
    with CollectionIndex(base / "items") as index:
        keys = [k for k, _ in index.store.iterator(prefix=b"o/") if b"\0" in k]
        assert len(keys) == 1
        with index.store.write_batch() as wb:  # as the last boot left it, an hour "ago"
            wb.put(keys[0], b"another-boot\x001\x000.1\x00-3600.0\x00-")
    # Were the reading from another boot believed, this reader would record it dead.
    assert _interrupted(base) == []
    wait_for(lambda: _interrupted(base) == ["x"], timeout=30)


def test_a_watched_resource_turned_into_a_link_is_not_read_through_it(
    base: Path, tmp_path: Path
) -> None:
    """Nothing outside BASE: not the meta.json nor the .lease beyond a symlinked resource."""
    (base / "items").mkdir(parents=True)
    res_dir = _pending_on_nodeb(base, "x", lease=1000.0)
    assert _interrupted(base) == []  # the watch begins
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "meta.json").write_text((res_dir / "meta.json").read_text())
    (outside / ".lease").write_bytes(b"SECRET outside BASE")
    for name in ("meta.json", "status"):
        (res_dir / name).unlink()
    res_dir.rmdir()
    res_dir.symlink_to(outside, target_is_directory=True)  # no marker: behind hadrosaur's back
    time.sleep(0.3)  # past the readers' poll of the leases
    Project(base, create=False).stats("items")
    with CollectionIndex(base / "items") as index:
        stored = b"".join(value for _, value in index.store.iterator(prefix=b"o/"))
    assert b"SECRET" not in stored
