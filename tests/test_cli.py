"""The ``hadrosaur`` command on a real base: text and --json output, exit codes, help.

Most cases call ``hadrosaur.cli.main`` in this process (fast); a few run
``python -m hadrosaur`` end to end to check the exit code and that bad input
never prints a traceback.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from hadrosaur import Project
from hadrosaur.cli import main
from hadrosaur.display import BIDI_CONTROLS, DIM

from .helpers import REPO

#: The commands parsed here; ``tui`` hands its arguments to hadrosaur-tui (tested apart).
COMMANDS = ("stats", "ls", "errors", "show", "log", "error", "recompute", "reindex")


def _compute(ident: str, args: dict[str, Any], ctx: Any) -> Any:
    ctx.logger.info("computing %s", ident)
    if ident.startswith("bad"):
        raise ValueError(f"bad input: {ident}")
    if ident.startswith("int"):
        raise KeyboardInterrupt  # leaves it pending with no live process: interrupted
    return {"ident": ident, "k": args.get("k")}


@pytest.fixture
def filled(base: Path) -> Path:
    """items: a, b completed, bad error, int1 interrupted, p planned; other: x completed."""
    proj = Project(base)
    proj.resource("items")(_compute)
    proj.resource("other")(_compute)
    proj.plan("items", ["a", "b", "bad", "int1", "p"])
    for ident in ("a", "bad", "b"):
        proj.fetch("items", ident, {"k": ident})
    with pytest.raises(KeyboardInterrupt):
        proj.fetch("items", "int1")
    proj.fetch("other", "x")
    return base


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_table_and_json(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", filled)
    assert code == 0
    header, items, other = out.splitlines()
    assert header.split() == [
        "COLLECTION", "TOTAL", "COMPLETED", "PENDING", "INTERRUPTED", "ERROR", "UNAVAILABLE",
    ]  # fmt: skip
    assert items.split() == ["items", "5", "2", "0", "1", "1", "1"]
    assert other.split() == ["other", "1", "1", "0", "0", "0", "0"]
    code, out, _ = run(capsys, "stats", filled, "items", "--json")
    assert json.loads(out) == {"items": Project(filled).stats("items")}
    code, out, _ = run(capsys, "stats", filled, "--json")
    assert json.loads(out) == Project(filled).stats()


def test_stats_of_an_empty_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "stats", tmp_path) == (0, "", f"no collections in {tmp_path}\n")
    assert json.loads(run(capsys, "stats", tmp_path, "--json")[1]) == {}


def test_ls_newest_first_with_reasons(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ls", filled, "items", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["ident"] for r in rows} == {"a", "b", "bad", "int1", "p"}
    starts = [r["start_time"] for r in rows]
    assert starts[-1] is None and rows[-1]["ident"] == "p"  # planned, never started: last
    assert starts[:-1] == sorted(starts[:-1], reverse=True)
    bad = next(r for r in rows if r["ident"] == "bad")
    assert bad["status"] == "error" and bad["reason"] == "ValueError: bad input: bad"
    assert bad["duration_ms"] == bad["end_time"] - bad["start_time"]
    code, out, _ = run(capsys, "ls", filled, "items")
    lines = out.splitlines()
    assert lines[0].split() == ["IDENT", "STATUS", "START", "DURATION", "REASON"]
    assert [line.split()[0] for line in lines[1:]] == [r["ident"] for r in rows]
    assert "ValueError: bad input: bad" in next(line for line in lines if line.startswith("bad"))
    assert lines[-1].split() == ["p", "unavailable", "-", "-"]


def test_ls_filters_by_status_and_limits(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for status, idents in [("error", ["bad"]), ("interrupted", ["int1"]), ("pending", [])]:
        rows = json.loads(run(capsys, "ls", filled, "items", "--status", status, "--json")[1])
        assert [r["ident"] for r in rows] == idents
        assert all(r["status"] == status for r in rows)
    rows = json.loads(run(capsys, "ls", filled, "items", "--status", "complete", "--json")[1])
    assert sorted(r["ident"] for r in rows) == ["a", "b"]
    rows = json.loads(run(capsys, "ls", filled, "items", "--limit", "2", "--json")[1])
    assert len(rows) == 2
    code, out, err = run(capsys, "ls", filled, "items", "--status", "pending")
    assert (code, out, err) == (0, "", "no pending resources in items\n")


@pytest.mark.parametrize("limit", ["0", "-3", "many"])
def test_ls_limit_must_be_one_or_more(
    filled: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ls", str(filled), "items", "--limit", limit])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: hadrosaur ls") and "--limit" in err


def test_ls_jsonl_streams_one_object_per_line(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "ls", filled, "items", "--jsonl")
    assert code == 0
    lines = out.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["ident"] for r in rows] == ["a", "b", "bad", "int1", "p"]  # ident order: as read
    listed = json.loads(run(capsys, "ls", filled, "items", "--json")[1])
    assert sorted(rows, key=lambda r: r["ident"]) == sorted(listed, key=lambda r: r["ident"])
    newest = json.loads(run(capsys, "ls", filled, "items", "--json", "--limit", "2")[1])
    code, out, _ = run(capsys, "ls", filled, "items", "--jsonl", "--limit", "2")
    assert [json.loads(line) for line in out.splitlines()] == newest
    code, out, _ = run(capsys, "ls", filled, "items", "--jsonl", "--status", "error")
    assert [json.loads(line)["ident"] for line in out.splitlines()] == ["bad"]
    assert run(capsys, "ls", filled, "items", "--jsonl", "--status", "pending")[:2] == (0, "")


def test_ls_jsonl_pages_through_the_index(
    base: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hadrosaur.cli import _listing

    monkeypatch.setattr(_listing, "LS_PAGE", 3)  # pages of 3 over 8 resources
    proj = Project(base)
    proj.resource("many")(_compute)
    idents = [f"r{n}" for n in range(8)]
    for ident in idents:
        proj.fetch("many", ident)
    out = run(capsys, "ls", base, "many", "--jsonl")[1]
    assert [json.loads(line)["ident"] for line in out.splitlines()] == idents
    proj.fetch("many", "bad1")
    proj.fetch("many", "bad2")
    out = run(capsys, "ls", base, "many", "--jsonl", "--status", "completed")[1]
    assert [json.loads(line)["ident"] for line in out.splitlines()] == idents


def test_json_and_jsonl_exclude_each_other(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ls", str(filled), "items", "--json", "--jsonl"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("ident", ["a", "bad", "int1", "damaged-status", "linked-directory"])
def test_ls_and_show_json_share_their_keys_and_values(
    filled: Path, capsys: pytest.CaptureFixture[str], ident: str
) -> None:
    damaged = ident in ("damaged-status", "linked-directory")
    if ident == "damaged-status":
        ident = "b"
        (filled / "items" / "b" / "status").write_text("gar\x00bage")
        (filled / "items" / ".updates" / "b").touch()  # as a writer would
    elif ident == "linked-directory":
        ident = "a"
        shutil.move(filled / "items" / "a", filled / "elsewhere")
        (filled / "items" / "a").symlink_to(filled / "elsewhere")
        (filled / "items" / ".updates" / "a").touch()
    (row,) = [
        r
        for r in json.loads(run(capsys, "ls", filled, "items", "--json")[1])
        if r["ident"] == ident
    ]
    shown = json.loads(run(capsys, "show", filled, "items", ident, "--json")[1])
    assert set(row) < set(shown)
    assert {key: shown[key] for key in row} == row
    assert not damaged or (row["status"] == "error" and "damaged" in row["reason"]), row


@pytest.mark.parametrize(
    "argv",
    [
        ["stats", "{empty}"],
        ["reindex", "{empty}"],
        ["ls", "{base}", "items", "--status", "pending"],
        ["log", "{base}", "items", "p2"],
        ["error", "{base}", "items", "a"],
        ["recompute", "{base}", "items", "--status", "interrupted"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_empty_answer_leaves_stdout_empty_and_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    proj = Project(tmp_path / "base")
    proj.resource("items")(_compute)
    proj.fetch("items", "a")
    (tmp_path / "base" / "items" / "p2").mkdir()  # a resource directory with nothing in it
    (tmp_path / "empty").mkdir()
    values = {"base": tmp_path / "base", "empty": tmp_path / "empty"}
    code, out, err = run(capsys, *(a.format(**values) for a in argv))
    assert (code, out) == (0, "")
    assert err.startswith(("no ", "items/", "nothing to recompute")) and err.count("\n") == 1


def test_show_text_and_json(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", filled, "items", "a", "--json")
    info = json.loads(out)
    assert code == 0
    assert info["status"] == "completed" and info["result"] == {"ident": "a", "k": "a"}
    assert info["args"] == {"k": "a"} and info["attempt"] == 1 and info["pid"] == os.getpid()
    assert info["paths"]["log"] == str(filled / "items" / "a" / "run.log")
    code, out, _ = run(capsys, "show", filled, "items", "bad")
    assert "status    error: ValueError: bad input: bad" in out
    assert f"result    {filled / 'items' / 'bad' / 'result.json'}  (none)" in out
    assert json.loads(run(capsys, "show", filled, "items", "int1", "--json")[1])["status"] == (
        "interrupted"
    )


def test_show_marks_damage_instead_of_failing(
    filled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (filled / "items" / "a" / "result.json").write_text("{trunc")
    (filled / "items" / "b" / "status").write_text("gar\x00bage")
    code, out, _ = run(capsys, "show", filled, "items", "a")
    assert code == 0
    assert "result    DAMAGED: result.json is not valid JSON" in out
    code, out, _ = run(capsys, "show", filled, "items", "b", "--json")
    info = json.loads(out)
    assert code == 0 and info["status"] == "error"
    assert info["reason"].startswith("damaged status file: 'gar")


def test_log_and_error(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log", filled, "items", "a")
    assert code == 0 and "INFO     computing a" in out
    code, out, _ = run(capsys, "error", filled, "items", "bad")
    assert code == 0 and out.startswith("Traceback") and "ValueError: bad input: bad" in out
    code, out, err = run(capsys, "error", filled, "items", "a")
    assert (code, out, err) == (0, "", "items/a has no error (it is completed)\n")
    (filled / "items" / "a" / "run.log").unlink()
    code, out, err = run(capsys, "log", filled, "items", "a")
    assert (code, out, err) == (0, "", "items/a has no log\n")


def test_reindex_rebuilds_a_deleted_index(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "stats", filled)[0] == 0  # the index exists now
    shutil.rmtree(filled / "items" / ".index")
    code, out, _ = run(capsys, "reindex", filled, "items", "--json")
    assert code == 0
    assert json.loads(out) == {"items": Project(filled).stats("items")}
    code, out, _ = run(capsys, "reindex", filled)
    assert out.splitlines()[-1] == "rebuilt the index of 2 collection(s) from their directories"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stats", "{missing}"], "base directory {missing} does not exist"),
        (["ls", "{base}", "nope"], "no collection 'nope' in {base}"),
        (["show", "{base}", "items", "zzz"], "no resource 'zzz' in collection 'items'"),
        (["log", "{base}", "items", "zzz", "-f"], "no resource 'zzz'"),
        (["error", "{base}", "items", ".hidden"], "invalid ident '.hidden'"),
        (["stats", "{base}", "../up"], "invalid collection '../up'"),
        (["recompute", "{base}", "items", "zzz"], "no resource 'zzz'"),
        (["recompute", "{base}", "items"], "name the idents to recompute"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    filled: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    values = {"base": filled, "missing": filled / "missing"}
    code, out, err = run(capsys, *(a.format(**values) for a in argv))
    assert code == 2 and out == ""
    assert err.startswith("hadrosaur: error: ") and err.count("\n") == 1
    assert message.format(**values) in err


def test_nothing_to_recompute(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "recompute", filled, "other", "--status", "error")
    assert (code, out, err) == (0, "", "nothing to recompute: no error resources\n")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"example:\n  hadrosaur {command} ./base_directory" in out


def _cli(
    *args: object, cwd: Path, pythonpath: str = str(REPO), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": pythonpath, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_tui_without_the_tui_package_is_a_clear_message(tmp_path: Path) -> None:
    as_if_not_installed = (
        "import sys; sys.modules['hadrosaur_tui'] = None; "
        "from hadrosaur.cli import main; raise SystemExit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", as_if_not_installed, "tui", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "the TUI is not installed" in done.stderr and done.stderr.count("\n") == 1


def test_tui_runs_hadrosaur_tui_with_the_same_arguments(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "hadrosaur_tui"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        textwrap.dedent("""
        import json, sys
        from pathlib import Path

        Path(sys.argv[-1], "tui-ran").write_text(json.dumps(sys.argv[1:]))
        raise SystemExit(3)
        """)
    )
    done = _cli(
        "tui", "--poll", "0.5", "--no-watch", tmp_path,
        cwd=tmp_path, pythonpath=f"{fake.parent}{os.pathsep}{REPO}",
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert json.loads((tmp_path / "tui-ran").read_text()) == [
        "--poll", "0.5", "--no-watch", str(tmp_path),
    ]  # fmt: skip


def test_tui_help_and_version_are_hadrosaur_tuis(tmp_path: Path) -> None:
    import hadrosaur

    done = _cli("tui", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: hadrosaur-tui")
    assert "example:\n  hadrosaur tui ./base_directory" in done.stdout
    assert "--no-watch" in done.stdout and "--demo" in done.stdout
    version = _cli("tui", "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"hadrosaur-tui {hadrosaur.__version__}\n"
    assert _cli("--version", cwd=tmp_path).stdout == f"hadrosaur {hadrosaur.__version__}\n"


def test_end_to_end_as_a_module(filled: Path, tmp_path: Path) -> None:
    done = _cli("ls", filled, "items", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 5
    done = _cli("show", filled, "nope", "a", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"hadrosaur: error: no collection 'nope' in {filled}; " + (
        "define it with @project.resource('nope') or check the base directory\n"
    )
    done = _cli("ls", filled, "items", "--status", "bogus", cwd=tmp_path)
    assert done.returncode == 2 and "invalid choice: 'bogus'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_index_names_the_option_that_waits_longer(filled: Path, tmp_path: Path) -> None:
    lock = filled / "items" / ".index.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as another reader holding the index
        done = _cli("stats", filled, "items", "--index-timeout", "0.2", cwd=tmp_path)
    finally:
        os.close(fd)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "stayed busy for 0.2 s" in done.stderr
    assert "--index-timeout SECONDS" in done.stderr and "Project(" not in done.stderr
    assert _cli("stats", filled, "items", "--index-timeout", "0.2", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf"])
def test_index_timeout_must_be_positive_seconds(filled: Path, tmp_path: Path, value: str) -> None:
    done = _cli("stats", filled, "--index-timeout", value, cwd=tmp_path)
    assert done.returncode == 2 and "--index-timeout" in done.stderr
    assert "Traceback" not in done.stderr


# -- what reaches a terminal -----------------------------------------------------------

#: What a run.log held in the report: retitle the pane, clear the screen, write
#: the clipboard; plus a C1 CSI and a right-to-left override.
HOSTILE = "\x1b]0;pwned-title\x07 \x1b[2J \x1b]52;c;aGk=\x07 \x9b31m \u202eevil"
#: The same, as visible() shows it.
HOSTILE_SHOWN = "^[]0;pwned-title^G ^[[2J ^[]52;c;aGk=^G <U+009B>31m <U+202E>evil"


def _hostile(ident: str, args: Any, ctx: Any) -> Any:
    ctx.logger.info(HOSTILE)
    if ident == "evilerr":
        raise ValueError(HOSTILE)
    return {"text": HOSTILE}


@pytest.fixture
def hostile(base: Path) -> Path:
    """Collection h: evil (completed; hostile log and result), evilerr (hostile traceback)."""
    proj = Project(base)
    proj.resource("h")(_hostile)
    proj.fetch("h", "evil", {"note": HOSTILE})
    proj.fetch("h", "evilerr")
    return base


def _raw_controls(text: str) -> list[str]:
    """Characters a terminal acts on: ESC and the other C0 but tab/newline/CR, DEL, C1, bidi."""
    return [
        c
        for c in text
        if (ord(c) < 0x20 and c not in "\t\n\r")
        or 0x7F <= ord(c) <= 0x9F
        or ord(c) in BIDI_CONTROLS
    ]


def in_terminal(
    argv: Sequence[object],
    *,
    colour: bool = False,
    steps: Sequence[tuple[str, Callable[[subprocess.Popen[bytes]], object]]] = (),
    timeout: float = 60,
    returncode: int = 0,
) -> str:
    """Run ``python -m hadrosaur ARGV`` with a real pseudo-terminal as stdout and stderr.

    Returns everything the terminal received, decoded. ``steps``: when the output
    first holds a needle, its action runs (e.g. append to a log, then Ctrl-C).
    """
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    if not colour:
        env["NO_COLOR"] = "1"
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "hadrosaur", *map(str, argv)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)  # the child holds it: reading the master ends (EIO) when the child is gone
    received = bytearray()
    todo = list(steps)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            received += data
            while todo and todo[0][0] in received.decode("utf-8", "replace"):
                todo.pop(0)[1](child)
        else:
            raise AssertionError(f"{argv} did not finish; the terminal got:\n{received!r}")
        assert child.wait(timeout=timeout) == returncode, received.decode("utf-8", "replace")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    assert not todo, f"never saw {todo[0][0]!r}; the terminal got:\n{received!r}"
    return received.decode("utf-8")


#: Each command that prints user data, and what its output must show of it. show
#: prints args and result as JSON (which writes ESC as \u001b), its reason as text.
TERMINAL_COMMANDS = [
    (("log", "h", "evil"), HOSTILE_SHOWN),
    (("error", "h", "evilerr"), HOSTILE_SHOWN),
    # The index keeps a reason on one line: every control (C0, C1) and bidi control
    # is a space there, so nothing of the escape sequences is left to show.
    (("ls", "h"), "ValueError:  ]0;pwned-title   [2J  ]52;c;aGk=   31m  evil"),
    # show's reason is ls's (the index's).
    (("show", "h", "evilerr"), "ValueError:  ]0;pwned-title   [2J  ]52;c;aGk=   31m  evil"),
    (("show", "h", "evil"), "\\u001b]0;pwned-title\\u0007 \\u001b[2J"),
    (("show", "h", "evil"), "<U+009B>31m <U+202E>evil"),
]


@pytest.mark.parametrize(
    ("command", "expected"), TERMINAL_COMMANDS, ids=[" ".join(c) for c, _ in TERMINAL_COMMANDS]
)
def test_a_terminal_gets_visible_forms_never_escape_sequences(
    hostile: Path, command: tuple[str, ...], expected: str
) -> None:
    name, *rest = command
    shown = in_terminal([name, hostile, *rest])
    assert not _raw_controls(shown), _raw_controls(shown)
    assert expected in shown


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("show", "h", "evil"), "\\u009b31m \\u202eevil"),  # args and result, as they are
        (("ls", "h"), '"reason": "ValueError:  ]0;pwned-title   [2J'),  # one line, no controls
    ],
    ids=lambda c: " ".join(c) if isinstance(c, tuple) else "",
)
def test_json_on_a_terminal_escapes_every_control(
    hostile: Path, command: tuple[str, ...], expected: str
) -> None:
    name, *rest = command
    shown = in_terminal([name, hostile, *rest, "--json"])
    assert not _raw_controls(shown), _raw_controls(shown)
    assert expected in shown


def test_on_a_colour_terminal_the_only_escapes_are_the_dimming_of_visible_forms(
    hostile: Path,
) -> None:
    shown = in_terminal(["log", hostile, "h", "evil"], colour=True)
    assert f"{DIM[0]}^[{DIM[1]}]0;pwned-title{DIM[0]}^G{DIM[1]}" in shown
    assert not _raw_controls(shown.replace(DIM[0], "").replace(DIM[1], ""))


def test_raw_sends_the_text_as_it_is_even_to_a_terminal(hostile: Path) -> None:
    shown = in_terminal(["log", hostile, "h", "evil", "--raw"])
    assert "\x1b]0;pwned-title\x07" in shown and "\x9b31m" in shown


def test_follow_on_a_terminal_shows_appended_text_visibly(hostile: Path) -> None:
    log = hostile / "h" / "evil" / "run.log"

    def append(child: subprocess.Popen[bytes]) -> None:
        with log.open("a") as f:
            f.write("appended \x1b]0;again\x07 over\rwrite, crlf\r\n")

    shown = in_terminal(
        ["log", hostile, "h", "evil", "-f"],
        steps=[
            ("^[]0;pwned-title^G", append),
            ("^[]0;again^G", lambda child: os.kill(child.pid, signal.SIGINT)),
        ],
        returncode=130,  # Ctrl-C, as tail -f
    )
    assert not _raw_controls(shown), _raw_controls(shown)
    assert "over^Mwrite" in shown, "a CR that would overwrite the line is shown"
    assert "crlf^M" not in shown, "the CR of a CRLF line ending is not"


def test_an_error_message_on_a_terminal_is_shown_visibly(tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b]0;pwned-title\x07"
    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "hadrosaur", "stats", str(missing)],
            stderr=slave,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=60,
        )
        os.close(slave)
        slave = -1
        received = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child is gone and everything was read
                break
            if not chunk:
                break
            received += chunk
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    err = received.decode()
    assert done.returncode == 2
    assert "gone^[]0;pwned-title^G does not exist" in err and "\x1b" not in err


@pytest.mark.parametrize(
    ("command", "file"),
    [(("log", "h", "evil"), "evil/run.log"), (("error", "h", "evilerr"), "evilerr/error.log")],
)
def test_piped_output_is_byte_exact(
    hostile: Path, tmp_path: Path, command: tuple[str, ...], file: str
) -> None:
    name, *rest = command
    done = subprocess.run(
        [sys.executable, "-m", "hadrosaur", name, str(hostile), *rest],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (hostile / "h" / file).read_bytes()
    assert b"\x1b]0;pwned-title\x07" in done.stdout


def test_visible_into_a_pipe(hostile: Path, tmp_path: Path) -> None:
    done = _cli("log", hostile, "h", "evil", "--visible", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "^[]0;pwned-title^G" in done.stdout and "\x1b" not in done.stdout
    done = _cli("log", hostile, "h", "evil", "--visible", "--raw", cwd=tmp_path)
    assert done.returncode == 2 and "not allowed with" in done.stderr


def test_the_library_never_imports_the_tui() -> None:
    """Imports point down only: nothing in hadrosaur/ imports hadrosaur_tui, in any form."""
    import ast

    found = []
    for path in sorted((REPO / "hadrosaur").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                    names = [str(first.value)]
            found += [f"{path.name}:{node.lineno} {n}" for n in names if "hadrosaur_tui" in n]
    assert found == []
