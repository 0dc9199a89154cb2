"""Error groups in the index: errors by cause, exact as they come and go.

Each test changes real resources (fetch, recompute, files removed or
damaged, a rebuild) and compares what the index answers with a grouping of
the files done here by brute force: every error.log read whole, signed with
hadrosaur.signature, its time from meta.json.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hadrosaur import CollectionView, ErrorGroup, InvalidStatus, Project, UnknownErrorGroup
from hadrosaur._index import CollectionIndex
from hadrosaur.signature import signature_of

from .test_legacy import legacy_base  # noqa: F401  (a fixture)

#: Every key prefix of the error groups (see hadrosaur/_index/keys.py).
GROUP_PREFIXES = (b"g/", b"n/", b"G/", b"t/", b"h/")


def fail_as(ident: str, args: Any, ctx: Any) -> str:
    """Fails as ``args["outcome"]`` says; a number varies per call, as real messages do."""
    outcome = args.get("outcome", "ok") if isinstance(args, dict) else "ok"
    n = args.get("n", 0) if isinstance(args, dict) else 0
    if outcome == "key":
        raise KeyError(f"sample_{ident}")
    if outcome == "value":
        raise ValueError(f"bad row {n} in part {n * 7 + 1}.csv")
    if outcome == "timeout":
        raise TimeoutError(f"timeout after {n}.5 s on node{n:03d}")
    return ident


@pytest.fixture
def errs(proj: Project) -> Project:
    proj.resource("coll")(fail_as)
    return proj


def brute_force_groups(coll_dir: Path) -> dict[str, tuple[int, list[str], int | None, int | None]]:
    """{signature: (count, members, first seen, last seen)} from the files alone."""
    members: dict[str, list[str]] = defaultdict(list)
    times: dict[str, list[int]] = defaultdict(list)
    for res in sorted(coll_dir.iterdir()):
        if res.name.startswith(".") or not (res / "status").is_file():
            continue
        if (res / "status").read_text() != "error":
            continue
        text = (res / "error.log").read_text() if (res / "error.log").exists() else ""
        sig = signature_of(text, res.name).signature
        members[sig].append(res.name)
        meta = json.loads((res / "meta.json").read_text())
        if meta.get("end_time") is not None:
            times[sig].append(meta["end_time"])
    return {
        sig: (
            len(idents),
            idents,
            min(times[sig], default=None),
            max(times[sig], default=None),
        )
        for sig, idents in members.items()
    }


def index_groups(
    proj: Project, coll: str
) -> dict[str, tuple[int, list[str], int | None, int | None]]:
    """The same, as the index answers (members through fetch_by_status(group=))."""
    out = {}
    for g in proj.error_groups(coll):
        members = proj.fetch_by_status(coll, "error", group=g.signature)
        assert list(g.examples) == members[:3]
        out[g.signature] = (g.count, members, g.first_seen, g.last_seen)
    return out


def group_keys(coll_dir: Path) -> list[bytes]:
    with CollectionIndex(coll_dir) as index:
        return [
            k
            for prefix in GROUP_PREFIXES
            for k in index.store.iterator(prefix=prefix, include_value=False)
        ]


def test_errors_are_grouped_by_cause_largest_first(errs: Project, base: Path) -> None:
    for i in range(4):
        errs.fetch("coll", f"k{i}", {"outcome": "key"})
    for i in range(2):
        errs.fetch("coll", f"v{i}", {"outcome": "value", "n": 10 + i})
    errs.fetch("coll", "t0", {"outcome": "timeout", "n": 3})
    errs.fetch("coll", "ok", {})
    groups = errs.error_groups("coll")
    assert [(g.count, g.exception, g.message) for g in groups] == [
        (4, "KeyError", "'sample_<ident>'"),
        (2, "ValueError", "bad row <n> in part <n>.csv"),
        (1, "TimeoutError", "timeout after <n> s on node<n>"),
    ]
    assert all(g.frame == "test_groups.py:fail_as" for g in groups)
    assert groups[0].examples == ("k0", "k1", "k2")
    assert index_groups(errs, "coll") == brute_force_groups(base / "coll")
    key = groups[0]
    times = [errs.load("coll", f"k{i}").end_time for i in range(4)]
    assert (key.first_seen, key.last_seen) == (min(times), max(times))
    assert sum(g.count for g in groups) == errs.stats("coll")["counts"]["error"]
    assert isinstance(key, ErrorGroup) and len(key.signature) == 10


def test_the_histogram_counts_failures_per_minute(errs: Project, base: Path) -> None:
    for i in range(3):
        errs.fetch("coll", f"k{i}", {"outcome": "key"})
    (group,) = errs.error_groups("coll")
    assert group.last_seen is not None
    minute = group.last_seen // 60_000
    ends = Counter(errs.load("coll", f"k{i}").end_time // 60_000 for i in range(3))  # type: ignore[operator]
    assert group.per_minute == dict(ends)
    assert sum(group.per_minute.values()) == 3
    # Only the minutes asked for: none of them 2 hours before the failures.
    (early,) = errs.error_groups("coll", minutes=60, now=(minute - 120) * 60_000)
    assert early.per_minute == {} and early.count == 3
    (one,) = errs.error_groups("coll", minutes=1, now=group.last_seen)
    assert one.per_minute == {minute: ends[minute]}


def test_a_recompute_leaves_the_group_while_pending_and_on_success(
    errs: Project, base: Path
) -> None:
    errs.fetch("coll", "alpha", {"outcome": "key"})
    errs.fetch("coll", "bravo", {"outcome": "key"})
    seen_while_pending: list[list[tuple[int, tuple[str, ...]]]] = []

    def succeed_and_look(ident: str, args: Any, ctx: Any) -> str:
        seen_while_pending.append([(g.count, g.examples) for g in errs.error_groups("coll")])
        return ident

    errs._functions["coll"] = succeed_and_look  # the same collection, now fixed
    errs.fetch("coll", "alpha", recompute=True)
    assert seen_while_pending == [[(1, ("bravo",))]]  # error -> pending: out of the group
    assert [(g.count, g.examples) for g in errs.error_groups("coll")] == [(1, ("bravo",))]
    errs.fetch("coll", "bravo", recompute=True)
    assert errs.error_groups("coll") == []
    assert group_keys(base / "coll") == []  # the group's header went with its last member


def test_another_cause_moves_the_resource_to_another_group(errs: Project, base: Path) -> None:
    errs.fetch("coll", "alpha", {"outcome": "key"})
    errs.fetch("coll", "bravo", {"outcome": "key"})
    key = errs.error_groups("coll")[0].signature
    errs.fetch("coll", "alpha", {"outcome": "value", "n": 5}, recompute=True)
    assert sorted((g.exception, g.count) for g in errs.error_groups("coll")) == [
        ("KeyError", 1),
        ("ValueError", 1),
    ]
    assert errs.fetch_by_status("coll", "error", group=key) == ["bravo"]
    # The same cause again, later: the same group, with its new time.
    errs.fetch("coll", "bravo", {"outcome": "key"}, recompute=True)
    (key_group,) = [g for g in errs.error_groups("coll") if g.signature == key]
    assert key_group.last_seen == errs.load("coll", "bravo").end_time == key_group.first_seen
    assert index_groups(errs, "coll") == brute_force_groups(base / "coll")


def test_a_removed_directory_leaves_its_group(errs: Project, base: Path) -> None:
    errs.plan("coll", ["planned"])
    for ident in ("alpha", "bravo", "planned"):
        errs.fetch("coll", ident, {"outcome": "key"})
    shutil.rmtree(base / "coll" / "alpha")
    (base / "coll" / ".updates" / "alpha").touch()
    assert [g.count for g in errs.error_groups("coll")] == [2]
    shutil.rmtree(base / "coll" / "planned")
    (base / "coll" / ".updates" / "planned").touch()
    assert errs.status("coll", "planned") == "unavailable"
    assert [(g.count, g.examples) for g in errs.error_groups("coll")] == [(1, ("bravo",))]
    shutil.rmtree(base / "coll" / "bravo")
    (base / "coll" / ".updates" / "bravo").touch()
    assert errs.error_groups("coll") == []
    assert group_keys(base / "coll") == []


def test_a_rebuild_gives_the_same_groups(errs: Project, base: Path) -> None:
    for i, outcome in enumerate(["key", "key", "value", "timeout", "ok", "value"]):
        errs.fetch("coll", f"r{i}", {"outcome": outcome, "n": i})
    before = errs.error_groups("coll")
    keys_before = group_keys(base / "coll")
    errs.reindex("coll")
    assert errs.error_groups("coll") == before
    assert group_keys(base / "coll") == keys_before
    shutil.rmtree(base / "coll" / ".index")  # deleted: rebuilt at the next read
    assert errs.error_groups("coll") == before


def test_an_index_of_schema_5_gets_its_signatures_computed_again(errs: Project, base: Path) -> None:
    # Schema 5 replaced a 1-2 character ident wherever it occurred ("b<ident>d row"):
    # one group per ident. Such an index is rebuilt when it is opened, from error.log.
    for ident in ("a", "b"):
        errs.fetch("coll", ident, {"outcome": "key"})
    [group] = errs.error_groups("coll")
    with CollectionIndex(base / "coll") as index, index.store.write_batch() as wb:
        for prefix in GROUP_PREFIXES:
            for key, _ in index.store.iterator(prefix=prefix):
                wb.delete(key)
        for ident, sig in (("a", "00000000aa"), ("b", "00000000bb")):
            wb.put(b"g/" + sig.encode(), b"KeyError\x1f'sample_<ident>'\x1fx.py:f")
            wb.put(b"n/" + sig.encode(), b"1")
            wb.put(b"G/" + sig.encode() + b"/" + ident.encode(), b"")
        wb.put(b"a/v", b"5")
    with errs.view("coll") as view:
        assert view.rebuilt
    assert errs.error_groups("coll") == [group]
    assert group.count == 2 and group.message == "'sample_<ident>'"


def test_damage_groups_as_damage(errs: Project, base: Path, tmp_path: Path) -> None:
    for ident in ("alpha", "bravo", "charlie", "delta"):
        errs.fetch("coll", ident, {"outcome": "key"})
    secret = tmp_path / "secret"
    secret.write_text("KeyError: 'not read'\n")
    for ident in ("alpha", "bravo"):
        os.unlink(base / "coll" / ident / "error.log")
        os.symlink(secret, base / "coll" / ident / "error.log")
    (base / "coll" / "charlie" / "status").write_text("gar\x00bage")
    errs.reindex("coll")
    groups = {g.message: g for g in errs.error_groups("coll")}
    assert groups["error.log: symlink refused"].count == 2
    assert groups["error.log: symlink refused"].exception == ""
    assert groups["damaged status file: 'gar\\x<n>bage'"].examples == ("charlie",)
    assert groups["'sample_<ident>'"].examples == ("delta",)
    assert sum(g.count for g in groups.values()) == errs.stats("coll")["counts"]["error"]


def test_dead_workers_group_by_their_normalised_note(errs: Project, base: Path) -> None:
    for ident, pid, signal in (("alpha", 4242, 9), ("bravo", 77, 9), ("coll", 5, 11)):
        errs.fetch("coll", ident, {"outcome": "key"})
        name = {9: "SIGKILL", 11: "SIGSEGV"}[signal]
        (base / "coll" / ident / "error.log").write_text(
            f"hadrosaur: the worker process (pid {pid}) computing this resource died: "
            f"killed by signal {name} ({signal}). The other resources of the run were "
            "not affected.\n"
        )
    errs.reindex("coll")
    groups = errs.error_groups("coll")
    assert [(g.count, g.exception) for g in groups] == [(2, ""), (1, "")]
    assert groups[0].message.startswith("hadrosaur: the worker process (pid <n>) computing")
    assert "SIGKILL (<n>)" in groups[0].message
    assert index_groups(errs, "coll") == brute_force_groups(base / "coll")


def test_a_legacy_base_gets_its_groups_from_error_logs(legacy_base: Path) -> None:  # noqa: F811
    proj = Project(legacy_base, create=False)
    (group,) = proj.error_groups("genomes")
    assert (group.exception, group.message, group.count) == ("RuntimeError", "This is an error!", 1)
    assert group.examples == ("GCF_2",)
    assert group.first_seen == group.last_seen == 1580948135919


def test_fetch_by_group_and_resolving_a_signature(errs: Project) -> None:
    errs.fetch("coll", "alpha", {"outcome": "key"})
    errs.fetch("coll", "bravo", {"outcome": "value"})
    sig = errs.error_groups("coll")[0].signature
    assert errs.fetch_by_status("coll", group=sig) in (["alpha"], ["bravo"])
    assert errs.fetch_by_status("coll", "error", group=sig) == errs.fetch_by_status(
        "coll", group=sig
    )
    assert errs.fetch_by_status("coll", "error", group="0000000000") == []  # no such group: []
    assert errs.fetch_by_status("coll") == []  # no group: completed, as always
    with pytest.raises(InvalidStatus, match="a group holds errors only"):
        errs.fetch_by_status("coll", "completed", group=sig)
    members = errs.fetch_by_status("coll", group=sig)
    with errs.view("coll") as v:
        assert v.resolve_group(sig[:4]) == sig
        assert v.resolve_group(sig) == sig
        assert v.group_idents(sig) == members
        with pytest.raises(UnknownErrorGroup, match="at least 4"):
            v.resolve_group(sig[:3])
        with pytest.raises(UnknownErrorGroup, match="at least 4"):
            v.resolve_group("zzzz")
        with pytest.raises(UnknownErrorGroup, match="no error of the collection has it"):
            v.resolve_group("0000000000" if not sig.startswith("0000") else "ffffffffff")
        assert v.signatures_starting("") == sorted(g.signature for g in v.error_groups())


def test_an_ambiguous_prefix_names_its_matches(errs: Project, base: Path) -> None:
    errs.fetch("coll", "alpha", {"outcome": "key"})
    # Two signatures sharing 4 digits are rare (1 in 65,536 pairs): made here.
    with CollectionIndex(base / "coll") as index:
        with index.store.write_batch() as wb:
            for sig in ("abcd000001", "abcd000002"):
                wb.put(b"n/" + sig.encode(), b"1")
                wb.put(b"g/" + sig.encode(), b"E\x1fm\x1f")
        view = CollectionView(index, "coll")
        with pytest.raises(UnknownErrorGroup, match="type more") as caught:
            view.resolve_group("abcd")
        assert caught.value.matches == ("abcd000001", "abcd000002")
        assert view.resolve_group("abcd000002") == "abcd000002"
    again = pickle.loads(pickle.dumps(caught.value))
    assert (type(again), str(again)) == (UnknownErrorGroup, str(caught.value))


OUTCOMES = st.sampled_from(["ok", "key", "value", "timeout"])
IDENTS = st.sampled_from([f"res-{i}" for i in range(6)])


class GroupsAgreeWithTheFiles(RuleBasedStateMachine):
    """Random fetches, recomputes, removals, plans and rebuilds; the groups stay exact."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hadrosaur-groups-"))
        self.proj = Project(self.tmp / "base", change_log_limit=5)
        self.proj.resource("coll")(fail_as)
        self.coll = self.tmp / "base" / "coll"
        self.calls = 0

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule(ident=IDENTS, outcome=OUTCOMES)
    def fetch(self, ident: str, outcome: str) -> None:
        self.calls += 1
        self.proj.fetch("coll", ident, {"outcome": outcome, "n": self.calls}, recompute=True)

    @rule(idents=st.lists(IDENTS, max_size=3))
    def plan(self, idents: list[str]) -> None:
        self.proj.plan("coll", idents)

    @rule(ident=IDENTS)
    def remove_resource(self, ident: str) -> None:
        if (self.coll / ident).exists():
            shutil.rmtree(self.coll / ident)
            (self.coll / ".updates" / ident).touch()

    @rule()
    def reindex(self) -> None:
        self.proj.reindex("coll")

    @rule()
    def delete_index(self) -> None:
        shutil.rmtree(self.coll / ".index", ignore_errors=True)

    @invariant()
    def groups_equal_a_brute_force_grouping(self) -> None:
        if not self.coll.exists():
            return
        assert index_groups(self.proj, "coll") == brute_force_groups(self.coll)
        groups = self.proj.error_groups("coll", minutes=10**9)
        assert sum(g.count for g in groups) == self.proj.stats("coll")["counts"]["error"]
        for g in groups:
            assert sum(g.per_minute.values()) == g.count  # every member has a time here
        if not groups:
            assert group_keys(self.coll) == []


GroupsAgreeWithTheFiles.TestCase.settings = settings(
    max_examples=30, stateful_step_count=15, deadline=None
)
test_groups_agree_with_the_files = pytest.mark.slow(GroupsAgreeWithTheFiles.TestCase)


def test_check_finds_group_keys_that_disagree_with_the_records(errs: Project, base: Path) -> None:
    errs.fetch("coll", "alpha", {"outcome": "key"})
    errs.fetch("coll", "bravo", {"outcome": "value"})
    assert errs.check("coll") == []
    sig = errs.error_groups("coll")[0].signature
    with CollectionIndex(base / "coll") as index, index.store.write_batch() as wb:
        wb.put(b"n/" + sig.encode(), b"5")
    assert any(f"error group {sig}" in line for line in errs.check("coll", fix=True))
    assert errs.check("coll") == []
    assert [g.count for g in errs.error_groups("coll")] == [1, 1]
