"""Helpers for the tests of ``hadrosaur-tui --serve``: a real server, a websocket, a browser.

The served page draws the terminal on a WebGL canvas, so its text is not in the
DOM. What the app drew is read instead from the websocket: the server relays
the app's output bytes there, and the collection names are in them as text.
The browser is driven through the Chrome DevTools Protocol (``--remote-debugging-port``)
rather than ``chromium --screenshot``: that one-shot mode takes its picture as
soon as the page loads (``--virtual-time-budget`` runs ahead of a websocket), before
the app has sent anything.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .helpers import REPO

#: Where Debian, Ubuntu and Google put the browser.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def free_port() -> int:
    """A port free on 127.0.0.1 now (the kernel's choice, closed again at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Return once something accepts on 127.0.0.1:port; fail if ``process`` ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server ended with {process.returncode} before listening")
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def serving(
    *args: str, cwd: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``hadrosaur-tui --serve ARGS --port PORT`` as a user starts it; SIGTERM at the end.

    Its output goes to a file outside ``cwd`` (a pipe nobody reads would fill up
    with the access log and stop the server), printed if the server fails.
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hadrosaur_tui", "--serve", *args, "--port", str(port)],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield process
        except BaseException:
            output.seek(0)
            sys.stderr.write(output.read().decode(errors="replace"))
            raise
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


#: Control sequences, taken out of the app's output before a pattern is looked for.
_ESCAPES = re.compile(r"\x1b(?:\[[0-9;?$]*[A-Za-z]|\][^\x07]*\x07)")


def _shows(got: bytes, wanted: str | re.Pattern[str]) -> bool:
    if isinstance(wanted, str):
        return wanted.encode() in got
    return wanted.search(_ESCAPES.sub("", got.decode("utf-8", "replace"))) is not None


async def _read_app_output(url: str, wanted: str | re.Pattern[str], timeout: float) -> str:
    import aiohttp

    got = b""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as websocket:
        deadline = time.monotonic() + timeout
        while not _shows(got, wanted) and time.monotonic() < deadline:
            try:
                message = await websocket.receive(timeout=0.5)
            except asyncio.TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                got += message.data
            elif message.type == aiohttp.WSMsgType.TEXT:
                got += message.data.encode()
            else:
                break
    return got.decode("utf-8", "replace")


def app_output(port: int, wanted: str | re.Pattern[str], *, timeout: float = 30) -> str:
    """What the app sends a tab of 120x40 cells, read until ``wanted`` shows (or timeout).

    ``wanted``: a text, or a pattern searched in the output without its control
    sequences (the first frame shows "…" until the counts are read: wait for them).
    """
    url = f"http://127.0.0.1:{port}/ws?width=120&height=40"
    return asyncio.run(_read_app_output(url, wanted, timeout))


def find_browser() -> str | None:
    """The path of a Chromium-like browser, or None where there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR), which is all the test needs of it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class DevTools:
    """One page of a headless browser, driven by the Chrome DevTools Protocol."""

    def __init__(self, websocket: Any) -> None:
        self._websocket = websocket
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        await self._websocket.send_json({"id": self._next_id, "method": method, "params": params})
        while True:
            message = await self._websocket.receive_json(timeout=30)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def websocket_text(self) -> str:
        """Every websocket frame the page received so far, decoded (binary frames are base64)."""
        parts = []
        for event in self.events:
            if event.get("method") == "Network.webSocketFrameReceived":
                frame = event["params"]["response"]
                data = frame["payloadData"]
                parts.append(base64.b64decode(data) if frame["opcode"] == 2 else data.encode())
        return b"".join(parts).decode("utf-8", "replace")


async def _screenshot(browser: str, url: str, wanted: str, timeout: float) -> tuple[bytes, str]:
    import aiohttp

    with tempfile.TemporaryDirectory(prefix="hadrosaur-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            browser,
            "--headless",
            "--no-sandbox",  # as root (CI) the sandbox refuses to start
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1200,800",
            "--remote-debugging-port=0",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stderr is not None
            endpoint = None
            while endpoint is None:
                line = await asyncio.wait_for(process.stderr.readline(), timeout)
                if not line:
                    raise AssertionError("the browser ended without a DevTools endpoint")
                found = re.search(rb"DevTools listening on (ws://\S+)", line)
                endpoint = found.group(1).decode() if found else None
            drain = asyncio.create_task(process.stderr.read())  # a full pipe would block it
            http = endpoint.split("/devtools/")[0].replace("ws://", "http://")
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{http}/json/list") as answer:
                    targets = json.loads(await answer.text())
                page = next(t for t in targets if t["type"] == "page")
                async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    tools = DevTools(ws)
                    await tools.call("Network.enable")
                    await tools.call("Page.enable")
                    # --window-size includes the (invisible) browser frame: fix the viewport.
                    await tools.call(
                        "Emulation.setDeviceMetricsOverride",
                        width=1200,
                        height=800,
                        deviceScaleFactor=1,
                        mobile=False,
                    )
                    await tools.call("Page.navigate", url=url)
                    deadline = time.monotonic() + timeout
                    # textual.js sets -first-byte on <body> once the app's output arrives.
                    while time.monotonic() < deadline and not (
                        await tools.evaluate("document.body.classList.contains('-first-byte')")
                        and wanted in tools.websocket_text()
                    ):
                        await asyncio.sleep(0.2)
                    await asyncio.sleep(1.0)  # the fade-in of the terminal (0.3 s in its CSS)
                    shot = await tools.call("Page.captureScreenshot", format="png")
                    text = tools.websocket_text()
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
            return base64.b64decode(shot["data"]), text
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()


def screenshot(browser: str, url: str, wanted: str, *, timeout: float = 40) -> tuple[bytes, str]:
    """A PNG of ``url`` once the page shows ``wanted``, and the app output the page received."""
    return asyncio.run(_screenshot(browser, url, wanted, timeout))


def descendants(pid: int) -> list[int]:
    """The children of ``pid``, their children, and so on, as /proc lists them now."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(word) for word in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


async def _stop_with_a_tab_open(
    url: str, server: subprocess.Popen[bytes], wanted: str
) -> tuple[bool, list[int]]:
    import aiohttp

    got = b""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as websocket:
        while wanted.encode() not in got:
            message = await websocket.receive(timeout=30)
            if message.type != aiohttp.WSMsgType.BINARY:
                return False, []
            got += message.data
        apps = descendants(server.pid)  # the shell and the app of this tab
        server.send_signal(signal.SIGTERM)

        async def closed() -> None:
            while (await websocket.receive()).type in (
                aiohttp.WSMsgType.BINARY,
                aiohttp.WSMsgType.TEXT,
            ):
                pass

        # The server closes the tab's websocket as it stops, not 25-60 s later.
        await asyncio.wait_for(closed(), timeout=15)
        return True, apps


def stop_with_a_tab_open(
    port: int, server: subprocess.Popen[bytes], wanted: str
) -> tuple[bool, list[int]]:
    """SIGTERM ``server`` while a tab shows ``wanted``: was the tab closed, and its app's pids."""
    url = f"http://127.0.0.1:{port}/ws?width=120&height=40"
    return asyncio.run(_stop_with_a_tab_open(url, server, wanted))
