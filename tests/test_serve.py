"""``hadrosaur-tui --serve``: the app served to a browser by a real server process.

Each test starts ``python -m hadrosaur_tui --serve`` on a free port, as a user
would, and talks to it over HTTP and the websocket a browser tab opens; one
test drives a real headless Chromium (skipped where none is installed).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hadrosaur import Project
from hadrosaur_tui.__main__ import parse_args
from hadrosaur_tui.serve import is_loopback, public_url, served_command

from .helpers import REPO
from .served import (
    app_output,
    find_browser,
    free_port,
    png_size,
    screenshot,
    serving,
    stop_with_a_tab_open,
    wait_for_port,
)

pytest.importorskip("textual_serve")

#: A base directory name that a shell would read as two commands if it were not quoted.
HOSTILE_BASE = "a b;touch x"


def _base_with_a_collection(root: Path, name: str = HOSTILE_BASE) -> Path:
    base = root / name
    proj = Project(base)
    compute = proj.resource("zebra_items")(lambda ident, args, ctx: {"ident": ident})
    for ident in ("one", "two", "three"):
        proj.fetch("zebra_items", ident)
    assert compute is not None
    return base


def _tui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hadrosaur_tui", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_page_is_served_on_localhost_and_the_app_shows_the_collection(
    tmp_path: Path,
) -> None:
    base = _base_with_a_collection(tmp_path)
    port = free_port()
    with serving(HOSTILE_BASE, cwd=tmp_path, port=port) as server:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as answer:
            assert answer.status == 200
            page = answer.read().decode()
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
        assert "hadrosaur-tui" in page  # the title
        shown = app_output(port, "zebra_items")
        assert "zebra_items" in shown  # the collections screen, drawn by the app
        assert str(base) in shown  # its header names the base, so BASE arrived whole
    assert server.returncode == 0
    # The name was one quoted argument: the shell never ran "touch x".
    assert sorted(p.name for p in tmp_path.iterdir()) == [HOSTILE_BASE]


def test_it_listens_on_loopback_only_by_default(tmp_path: Path) -> None:
    _base_with_a_collection(tmp_path)
    port = free_port()
    outside = _an_address_of_this_machine_that_is_not_loopback()
    with serving(HOSTILE_BASE, cwd=tmp_path, port=port):
        with socket.socket() as client:
            assert client.connect_ex(("127.0.0.1", port)) == 0
        if outside is not None:
            with socket.socket() as client:
                client.settimeout(5)
                assert client.connect_ex((outside, port)) != 0


def _an_address_of_this_machine_that_is_not_loopback() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent by a UDP connect
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if is_loopback(address) else address


def _listens(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family) as client:
        client.settimeout(5)
        return client.connect_ex((address, port)) == 0


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_host_localhost_listens_on_the_loopback_addresses(tmp_path: Path) -> None:
    """Accepted without --public; bound to 127.0.0.1 and ::1, not to what the name resolves to."""
    _base_with_a_collection(tmp_path)
    port = free_port()
    outside = _an_address_of_this_machine_that_is_not_loopback()
    with serving(HOSTILE_BASE, "--host", "localhost", cwd=tmp_path, port=port):
        assert _listens("127.0.0.1", port)
        if _ipv6_loopback():
            assert _listens("::1", port)
        if outside is not None:
            assert not _listens(outside, port)


def _private_mounts_work() -> bool:
    try:
        done = subprocess.run(
            ["unshare", "--mount", "sh", "-c", "mount --bind /etc/hosts /etc/hosts"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def test_host_localhost_never_binds_what_the_name_resolves_to(tmp_path: Path) -> None:
    """An /etc/hosts that maps localhost to a public address (a mount namespace of its own)."""
    outside = _an_address_of_this_machine_that_is_not_loopback()
    if outside is None or not _private_mounts_work():
        pytest.skip("needs an address that is not loopback and unshare --mount (root)")
    _base_with_a_collection(tmp_path)
    hosts = tmp_path.parent / f"{tmp_path.name}-hosts"
    hosts.write_text(f"{outside} localhost\n")
    port = free_port()
    process = subprocess.Popen(
        [
            "unshare",
            "--mount",
            "sh",
            "-c",
            'mount --bind "$0" /etc/hosts && shift && exec "$@"',
            str(hosts),
            "placeholder",
            sys.executable,
            "-m",
            "hadrosaur_tui",
            "--serve",
            HOSTILE_BASE,
            "--host",
            "localhost",
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, process)
        assert not _listens(outside, port)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_a_public_host_needs_public_and_then_warns(tmp_path: Path) -> None:
    refused = _tui(str(tmp_path), "--serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert refused.returncode == 2
    assert "--host 0.0.0.0 would listen beyond this machine" in refused.stderr
    assert "SSH tunnel" in refused.stderr and "--public" in refused.stderr
    port = free_port()
    public = ["--serve", str(tmp_path), "--public", "--host", "0.0.0.0", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "hadrosaur_tui", *public],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        warning = process.stderr.readline()
        assert "warning: listening on 0.0.0.0" in warning and "no password" in warning
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_serve_options_are_checked_before_anything_starts(tmp_path: Path) -> None:
    for args, message in [
        (["--host", "127.0.0.1"], "--host goes with --serve"),
        (["--port", "8001"], "--port goes with --serve"),
        (["--public"], "--public goes with --serve"),
        (["--serve", "--port", "0"], "a port is 1 to 65535, not 0"),
        (["--serve", "--port", "70000"], "a port is 1 to 65535"),
        (["--serve", "--host", "example.org"], "would listen beyond this machine"),
    ]:
        done = _tui(str(tmp_path), *args, cwd=tmp_path)
        assert done.returncode == 2, args
        assert message in done.stderr, (args, done.stderr)
    parsed = parse_args([str(tmp_path), "--serve"])
    assert (parsed.host, parsed.port, parsed.public) == ("127.0.0.1", 8000, False)
    assert parse_args(["--serve", "--host", "::1", str(tmp_path)]).host == "::1"


def test_a_taken_port_is_one_line_of_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _tui(str(tmp_path), "--serve", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"hadrosaur-tui: error: cannot listen on 127.0.0.1 port {port}")
    assert "choose another --port" in done.stderr and "Traceback" not in done.stderr


def test_the_served_command_is_the_same_app_on_the_same_base_quoted() -> None:
    base = Path("/data/a b;touch x/$(reboot)/`id`/'q'")
    command = served_command(base, poll_interval=0.5, watch=False, jobs=3)
    words = shlex.split(command)
    assert words[0] == sys.executable
    assert words[-6:] == [str(base), "--poll", "0.5", "--no-watch", "--jobs", "3"]
    # What /bin/sh (textual-serve's create_subprocess_shell) makes of it: the same words.
    echoed = subprocess.run(
        ["sh", "-c", f"set -- {command}; printf '%s\\n' \"$@\""],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert echoed[0] == sys.executable and echoed[-6] == str(base)
    relative = shlex.split(served_command(Path("b"), poll_interval=2.0, watch=True, jobs=None))
    assert relative[-3:] == [str(Path("b").absolute()), "--poll", "2.0"]


def test_the_page_names_the_address_a_browser_can_reach() -> None:
    assert public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url("::1", 8001) == "http://[::1]:8001"
    assert public_url("localhost", 80) == "http://localhost:80"
    assert public_url("0.0.0.0", 8000) == f"http://{socket.gethostname()}:8000"


@pytest.mark.slow
def test_serve_composes_with_demo(tmp_path: Path) -> None:
    port = free_port()
    demo = {"TMPDIR": str(tmp_path)}  # where the demo makes its base
    with serving("--demo", "--poll", "0.5", cwd=tmp_path, port=port, env=demo) as server:
        shown = app_output(port, "downloads")
        assert "downloads" in shown and "analyses" in shown
        pipeline = _children(server.pid)
        assert pipeline, "the demo pipeline runs beside the server"
    assert server.returncode == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pipeline) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pipeline if Path(f"/proc/{pid}").exists()]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(word) for word in path.read_text().split()]


@pytest.mark.slow
@pytest.mark.skipif(find_browser() is None, reason="no chromium (apt-get install chromium)")
def test_a_real_browser_shows_the_collections(tmp_path: Path) -> None:
    browser = find_browser()
    assert browser is not None
    _base_with_a_collection(tmp_path)
    port = free_port()
    with serving(HOSTILE_BASE, cwd=tmp_path, port=port):
        png, received = screenshot(browser, f"http://127.0.0.1:{port}/", "zebra_items")
    shot = tmp_path / "browser.png"
    shot.write_bytes(png)
    assert png_size(png) == (1200, 800)
    assert "zebra_items" in received, "the page received the app's collections screen"
    # Set HADROSAUR_KEEP_SCREENSHOT=path to look at it.
    if keep := os.environ.get("HADROSAUR_KEEP_SCREENSHOT"):
        Path(keep).write_bytes(png)


def test_without_textual_serve_it_says_which_extra_to_install(tmp_path: Path) -> None:
    # None in sys.modules makes "import textual_serve" raise ImportError, as when it is absent.
    code = (
        "import sys; sys.modules['textual_serve'] = None; "
        "from hadrosaur_tui.__main__ import main; "
        f"sys.exit(main([{str(tmp_path)!r}, '--serve', '--port', '{free_port()}']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--serve needs textual-serve" in done.stderr
    assert "pip install 'hadrosaur[serve]'" in done.stderr and "Traceback" not in done.stderr


def test_sigterm_stops_the_server_and_the_apps_of_open_tabs(tmp_path: Path) -> None:
    _base_with_a_collection(tmp_path)
    port = free_port()
    with serving(HOSTILE_BASE, cwd=tmp_path, port=port) as server:
        closed, apps = stop_with_a_tab_open(port, server, "zebra_items")
        assert closed and apps, "the tab was open, with its app running"
        # aiohttp alone waits for the open tab (25-60 s) before it gives up on it.
        assert server.wait(timeout=15) == 0
    deadline = time.monotonic() + 30
    while [pid for pid in apps if Path(f"/proc/{pid}").exists()] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in apps if Path(f"/proc/{pid}").exists()] == []
