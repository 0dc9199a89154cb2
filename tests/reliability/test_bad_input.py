"""Bad input, found by hypothesis: every call works or raises a documented HadrosaurError.

Names, args and results come from strategies that mix the ordinary with the
hostile (unicode, separators, control characters, 255-byte limits, NaN, deep
nesting, objects JSON cannot hold). Resource directories and the LevelDB index
are damaged in every way a disk, a crash or a person can damage them; reads
must then answer truthfully or raise a clear error, and a fetch must repair
the resource.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hadrosaur import STATUSES, HadrosaurError, InvalidArgs, InvalidName, Project

from .checks import survey


def _settings(long_examples: int, short_examples: int) -> settings:
    long_run = bool(os.environ.get("HADROSAUR_LONG"))
    return settings(
        max_examples=long_examples if long_run else short_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=not long_run,
    )


@contextmanager
def fresh_base() -> Iterator[Path]:
    """A base directory per example (hypothesis examples cannot use tmp_path)."""
    tmp = Path(tempfile.mkdtemp(prefix="hadrosaur-fuzz-"))
    try:
        yield tmp / "base"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def answers(call: Callable[[], Any]) -> Any:
    """Run a call that must either work or raise a HadrosaurError with a message."""
    try:
        return call()
    except HadrosaurError as exc:
        assert str(exc), f"{type(exc).__name__} without a message"
        return exc


RESULTS: dict[str, Any] = {}


def returns_registered(ident: str, args: Any, ctx: Any) -> Any:
    return RESULTS[ident]


def healthy(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info("computing %s", ident)
    if ident.startswith("fail"):
        raise ValueError(f"failing on purpose: {ident}")
    return {"ident": ident}


SPECIAL_NAMES = [
    ".",
    "..",
    ".hidden",
    "a/b",
    "/abs",
    "a\\b",
    "a\x00b",
    "a\nb",
    "a\x1fb",
    "a\x7fb",
    "\ud800",
    " ",
    "-",
    "--help",
    "é" * 127,
    "é" * 128,
    "a" * 255,
    "a" * 256,
    "😀" * 63,
    "😀" * 64,
    "\u2028",
    "\u200b",
    "complete",
    "status",
    "CON",
    "*",
    "a b",
]

names = st.one_of(
    st.sampled_from(SPECIAL_NAMES),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=60, max_size=140),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.integers(),
    st.none(),
    st.binary(max_size=10),
)


@_settings(1000, 120)
@given(ident=names)
def test_any_ident_works_or_is_refused_before_touching_the_disk(ident: Any) -> None:
    with fresh_base() as base:
        proj = Project(base)
        proj.resource("c")(healthy)
        before = sorted(os.listdir(base / "c"))
        try:
            res = proj.fetch("c", ident)
        except InvalidName as exc:
            assert repr(ident)[:20] in str(exc) or "it is" in str(exc)
            assert sorted(os.listdir(base / "c")) == before, "a refused name touched the disk"
            for call in (proj.status, proj.load, proj.fetch_error, proj.fetch_log):
                with pytest.raises(InvalidName):
                    call("c", ident)
            return
        assert res.status == "completed" and res.result == {"ident": ident}
        assert proj.status("c", ident) == "completed"
        assert proj.load("c", ident).result == {"ident": ident}
        assert proj.fetch_by_status("c", "completed") == [ident]
        assert [e.ident for e in proj.entries("c")] == [ident]
        assert "computing" in proj.fetch_log("c", ident)
        assert proj.check("c") == []


@_settings(300, 60)
@given(name=names)
def test_any_collection_name_works_or_is_refused(name: Any) -> None:
    with fresh_base() as base:
        proj = Project(base)
        try:
            proj.resource(name)(healthy)
        except InvalidName:
            assert not base.exists() or os.listdir(base) == []
            with pytest.raises(InvalidName):
                proj.status(name, "x")
            return
        assert proj.fetch(name, "x").status == "completed"
        assert proj.stats(name)["counts"]["completed"] == 1
        assert Project(base, create=False).collections() == [name]


class Opaque:
    """Something JSON cannot hold."""


class Deep(list):  # type: ignore[type-arg]
    """A list nested ``depth`` deep, with a short repr for hypothesis's reports."""

    def __init__(self, depth: int) -> None:
        value: list[Any] = []
        for _ in range(depth - 1):
            value = [value]
        super().__init__([value])
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"


class HugeInt(int):
    """An int of 5,001 digits, with a repr that does not trip Python's digit limit."""

    def __repr__(self) -> str:
        return "HugeInt(10**5000)"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
HOSTILE = [
    Opaque(),
    {1, 2},
    (1, 2),
    {(1, 2): "tuple key"},
    {1: "int key"},
    complex(1, 2),
    Deep(100_000),
    HugeInt(10**5000),
    "x" * 3_000_000,
    math.nan,
    -math.inf,
]


def hostile_examples(argument: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Make hypothesis try every HOSTILE value for ``argument``, whatever it generates."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for value in HOSTILE:
            test = example(**{argument: value})(test)
        return test

    return decorate


hostile_values = st.recursive(
    st.none()
    | st.floats()  # NaN and infinities included
    | st.integers()
    | st.text()
    | st.binary(max_size=5)
    | st.sampled_from(HOSTILE),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@_settings(600, 80)
@given(args=st.one_of(json_values, hostile_values))
@hostile_examples("args")
def test_any_args_are_saved_or_refused(args: Any) -> None:
    with fresh_base() as base:
        proj = Project(base)
        proj.resource("c")(healthy)
        try:
            res = proj.fetch("c", "x", args)
        except InvalidArgs as exc:
            assert "JSON" in str(exc)
            assert proj.status("c", "x") == "unavailable"
            return
        assert res.status == "completed"
        stored = proj.load("c", "x").args
        assert stored == json.loads(json.dumps({} if args is None else args))


@_settings(600, 40)
@given(result=st.one_of(json_values, hostile_values))
@hostile_examples("result")
def test_any_result_is_completed_or_recorded_as_an_error(result: Any) -> None:
    with fresh_base() as base:
        proj = Project(base)
        proj.resource("c")(returns_registered)
        RESULTS["x"] = result
        try:
            res = proj.fetch("c", "x")
        finally:
            del RESULTS["x"]
        try:
            expected = json.loads(json.dumps(result, allow_nan=False))
        except (TypeError, ValueError, RecursionError):
            assert res.status == "error"
            assert "not JSON-serializable" in proj.fetch_error("c", "x")
        else:
            assert res.status == "completed"
            assert res.result == expected
            assert proj.load("c", "x").result == expected
        assert proj.stats("c")["counts"][res.status] == 1
        assert proj.check("c") == []


# -- damaged resource directories ------------------------------------------------

FILE_DAMAGE = {
    "missing": None,
    "empty": b"",
    "garbage": b"\x00\xff\xfe garbage \x80",
    "truncated": b"compl",
    "text": b"complete",
    "pending": b"pending",
    "error": b"error",
    "json-truncated": b'{"start_time": 12',
    "json-list": b"[1, 2, 3]",
    "json-deep": b"[" * 100_000 + b"]" * 100_000,
    "json-huge-int": b"9" * 5000,
    "json-wrong-types": b'{"start_time": "x", "end_time": [], "attempt": "2", "host": 5}',
    "json-nan": b'{"v": NaN}',
    "directory": "dir",
}
DAMAGED_FILES = ["status", "result.json", "meta.json", "error.log", "run.log", "storage"]


def _damage(path: Path, kind: str) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    value = FILE_DAMAGE[kind]
    if value == "dir":
        (path / "inner").mkdir(parents=True)
    elif isinstance(value, bytes):
        path.write_bytes(value)


def _read_everything(proj: Project, ident: str) -> dict[str, Any]:
    """Call every read; each works or raises a HadrosaurError."""
    found: dict[str, Any] = {
        "load": answers(lambda: proj.load("c", ident)),
        "status": answers(lambda: proj.status("c", ident)),
        "stats": answers(lambda: proj.stats("c")),
        "all stats": answers(proj.stats),
        "entries": answers(lambda: proj.entries("c")),
        "changes": answers(lambda: proj.changes("c")),
        "error": answers(lambda: proj.fetch_error("c", ident)),
        "log": answers(lambda: proj.fetch_log("c", ident)),
        "check": answers(lambda: proj.check("c")),
    }
    for status in STATUSES:
        found[status] = answers(lambda status=status: proj.fetch_by_status("c", status))
    return found


@_settings(1500, 40)
@given(
    start=st.sampled_from(["ok", "fail", "never"]),
    damages=st.dictionaries(
        st.sampled_from(DAMAGED_FILES), st.sampled_from(sorted(FILE_DAMAGE)), min_size=1
    ),
    drain_first=st.booleans(),
)
def test_a_damaged_resource_is_reported_and_repaired_by_fetch(
    start: str, damages: dict[str, str], drain_first: bool
) -> None:
    with fresh_base() as base:
        proj = Project(base)
        proj.resource("c")(healthy)
        ident = f"{start}-1"
        res_dir = base / "c" / ident
        if start == "never":
            res_dir.mkdir(parents=True)
        else:
            proj.fetch("c", ident)
        proj.fetch("c", "neighbour")
        if drain_first:
            proj.stats("c")
        for name, kind in damages.items():
            _damage(res_dir / name, kind)
        found = _read_everything(proj, ident)
        status = found["status"]
        assert status in STATUSES, f"status() raised {status!r}"
        stats = found["stats"]
        assert isinstance(stats, dict), f"stats() raised {stats!r}"
        assert stats["counts"]["completed"] >= 1, "the sound neighbour must still count"
        # Damage done behind hadrosaur's back leaves no marker: check() finds it, fix repairs.
        assert isinstance(found["check"], list), found["check"]
        answers(lambda: proj.check("c", fix=True))
        assert proj.check("c") == []
        if status != "unavailable":
            assert ident in proj.fetch_by_status("c", status), "listed under the status it has"
        if status == "completed" and isinstance(found["load"], HadrosaurError):
            assert "result.json" in str(found["load"])
        # fetch repairs what it can: damage is never a reason to stay broken.
        repaired = answers(lambda: proj.fetch("c", ident, recompute=True))
        assert not isinstance(repaired, HadrosaurError), repaired
        assert repaired.status == ("error" if start == "fail" else "completed")
        after = survey(base / "c", quiescent=True, expected=lambda i: {"ident": i})
        assert after.violations == []
        assert proj.load("c", ident).status == repaired.status
        assert proj.check("c") == []


# -- a damaged LevelDB index ------------------------------------------------------------


def _populated(base: Path) -> Project:
    proj = Project(base)
    proj.resource("c")(healthy)
    for n in range(30):
        proj.fetch("c", f"ok-{n:02d}" if n % 5 else f"fail-{n:02d}")
    proj.plan("c", [f"ok-{n:02d}" for n in range(40)])
    proj.stats("c")
    for n in range(30, 35):  # drained later, after the damage: markers must not be lost
        proj.fetch("c", f"ok-{n:02d}")
    return proj


#: What _populated leaves: ok-00, ok-05 ... ok-25 and ok-35 ... ok-39 planned, never started.
TRUTH = {"completed": 29, "error": 6, "unavailable": 11, "pending": 0, "interrupted": 0}


@pytest.mark.slow
@_settings(800, 25)
@given(
    how=st.sampled_from(["delete", "truncate", "flip", "garbage", "directory", "file-index"]),
    which=st.integers(min_value=0, max_value=100),
    where=st.floats(min_value=0, max_value=1),
    byte=st.integers(min_value=1, max_value=255),
)
def test_a_damaged_index_is_rebuilt_never_believed(
    how: str, which: int, where: float, byte: int
) -> None:
    with fresh_base() as base:
        proj = _populated(base)
        index = base / "c" / ".index"
        files = sorted(p for p in index.iterdir() if p.is_file())
        target = files[which % len(files)]
        if how == "file-index":
            shutil.rmtree(index)
            index.write_bytes(b"not a database")
        elif how == "delete":
            target.unlink()
        elif how == "truncate":
            data = target.read_bytes()
            target.write_bytes(data[: int(len(data) * where)])
        elif how == "flip":
            data = bytearray(target.read_bytes())
            if data:
                pos = min(len(data) - 1, int(len(data) * where))
                data[pos] ^= byte
            target.write_bytes(bytes(data))
        elif how == "garbage":
            target.write_bytes(os.urandom(64 + byte))
        else:
            target.unlink()
            target.mkdir()
        stats = answers(lambda: proj.stats("c"))
        assert isinstance(stats, dict), f"stats() raised {stats!r}"
        counts = {k: v for k, v in stats["counts"].items() if k != "total"}
        assert counts == TRUTH, f"after damaging {target.name} ({how}): {counts}"
        assert proj.fetch_by_status("c", "error") == [f"fail-{n:02d}" for n in range(0, 30, 5)]
        assert len(proj.entries("c")) == 46
        assert proj.check("c") == []


def test_garbage_in_the_marker_directory_is_ignored(tmp_path: Path) -> None:
    proj = _populated(tmp_path / "base")
    updates = tmp_path / "base" / "c" / ".updates"
    (updates / "a-directory").mkdir()
    (updates / ".claimed" / "another-directory").mkdir()
    (updates / "bad\nname").touch()
    (updates / ".plan.0123456789").touch()  # a plan marker whose plan is gone
    (tmp_path / "base" / "c" / ".plans" / "feedface.txt").write_bytes(b"\xff\xfe\x00\n..\nok\n")
    (updates / ".plan.feedface").touch()
    counts = proj.stats("c")["counts"]
    # The garbled plan still names one valid ident, "ok".
    assert {k: v for k, v in counts.items() if k != "total"} == {**TRUTH, "unavailable": 12}
    assert proj.check("c") == []


@pytest.mark.parametrize("damage", [b"[" * 100_000, b"\xff garbage", b"[1, 2]", "dir"])
def test_a_damaged_collection_file_does_not_stop_defining_the_collection(
    tmp_path: Path, damage: bytes | str
) -> None:
    coll_file = tmp_path / "base" / "c" / ".collection.json"
    coll_file.parent.mkdir(parents=True)
    if damage == "dir":
        coll_file.mkdir()
    else:
        assert isinstance(damage, bytes)
        coll_file.write_bytes(damage)
    proj = Project(tmp_path / "base")
    proj.resource("c")(healthy)
    assert proj.fetch("c", "x").status == "completed"
    assert json.loads(coll_file.read_bytes())["name"] == "c"
