"""``hadrosaur-tui --serve``: the same app in a browser, through textual-serve.

textual-serve runs a *command string* through ``/bin/sh`` once per browser tab
(``asyncio.create_subprocess_shell``) and relays that process's screen over a
websocket. So the command is built as a list and joined with :func:`shlex.join`:
a base directory named ``a b;touch x`` stays one quoted argument and is never
read by the shell as two commands. The child runs through
:func:`hadrosaur.children.python_module_command`, as every child of the monitor
does, so nothing is imported from the directory the server was started in.

The server has no password: whoever reaches its port watches the base and can
recompute resources (``r``, ``R``). It therefore listens on the loopback
interface unless the user asks otherwise by name (``--public``); the README
shows how to reach it from another machine through an SSH tunnel instead.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

from hadrosaur import HadrosaurError
from hadrosaur.children import python_module_command
from hadrosaur.display import visible

__all__ = (
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ServeError",
    "bind_addresses",
    "is_loopback",
    "public_url",
    "serve",
    "served_command",
    "warn_public",
)

#: textual-serve's default port, kept as ours.
DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"


class ServeError(HadrosaurError, OSError):
    """The server could not listen (port taken, address not on this machine, no permission)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8, ::1).

    Any other name counts as public: a name is not resolved here, since what
    it resolves to can change between this check and the bind.

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_addresses(host: str) -> list[str]:
    """The addresses to listen on for ``--host HOST``: ``localhost`` is 127.0.0.1 (and ::1).

    The name ``localhost`` is never resolved: /etc/hosts or a resolver may map
    it to an address others can reach, and it is accepted as loopback without
    ``--public``. So it binds the loopback addresses themselves, ::1 too where
    this machine has IPv6. Any other host is bound as given.

    Example:
        >>> bind_addresses("127.0.0.1"), bind_addresses("localhost")[0]
        (['127.0.0.1'], '127.0.0.1')
    """
    if host != "localhost":
        return [host]
    addresses = ["127.0.0.1"]
    if socket.has_ipv6:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
                probe.bind(("::1", 0))
        except OSError:
            pass  # no IPv6 loopback here (disabled, or a container without it)
        else:
            addresses.append("::1")
    return addresses


def public_url(host: str, port: int) -> str:
    """The address the page tells the browser to open its websocket on.

    textual-serve builds it as ``http://HOST:PORT``, which is wrong for an IPv6
    literal (it needs brackets) and for a wildcard address (``0.0.0.0`` cannot be
    connected to from another machine: this machine's name is used instead).
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        return f"http://{socket.gethostname()}:{port}"
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


def served_command(base: Path, *, poll_interval: float, watch: bool, jobs: int | None) -> str:
    """The shell command that runs the monitor on ``base`` in each browser tab, safely quoted.

    ``base`` is made absolute, so the command does not depend on the directory
    the shell starts in, and cannot be read as an option (it starts with ``/``).

    Example:
        >>> cmd = served_command(Path("/b/a b;touch x"), poll_interval=2.0, watch=True, jobs=None)
        >>> shlex.split(cmd)[-3:]
        ['/b/a b;touch x', '--poll', '2.0']
    """
    args = [str(base.absolute()), "--poll", repr(poll_interval)]
    if not watch:
        args.append("--no-watch")
    if jobs is not None:
        args += ["--jobs", str(jobs)]
    return shlex.join(python_module_command("hadrosaur_tui", args))


def serve(
    base: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    poll_interval: float = 2.0,
    watch: bool = True,
    jobs: int | None = None,
) -> int:
    """Serve the monitor of ``base`` on ``http://host:port`` until Ctrl-C or SIGTERM.

    Each browser tab that opens the page gets an app process of its own, on the
    same base; closing the tab ends it.
    """
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ServeError(
            "--serve needs textual-serve, an optional dependency: "
            "pip install 'hadrosaur[serve]' (or pip install textual-serve)"
        ) from None

    class MonitorServer(Server):
        """textual-serve's Server that says what it serves briefly and stops its tabs' apps."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tabs: set[asyncio.Task[Any]] = set()

        async def on_startup(self, app: object) -> None:
            # Instead of textual-serve's banner, which prints the whole command (markup and all).
            shown = visible(str(base), line=True)
            print(f"hadrosaur-tui: serving {shown} on {self.public_url} (Ctrl+C stops)", flush=True)

        async def handle_websocket(self, request: Any) -> Any:
            tab = asyncio.current_task()
            if tab is not None:
                self.tabs.add(tab)
            try:
                return await super().handle_websocket(request)
            finally:
                if tab is not None:
                    self.tabs.discard(tab)

        async def on_shutdown(self, app: object) -> None:
            # aiohttp would wait 60 s for a connected tab; cancelled, its handler tells
            # the tab's app to quit and waits for it to end.
            for tab in list(self.tabs):
                tab.cancel()

    command = served_command(base, poll_interval=poll_interval, watch=watch, jobs=jobs)
    addresses = bind_addresses(host)
    for address in addresses:
        _check_can_listen(address, port)
    server = MonitorServer(
        command,
        # aiohttp's run_app listens on each of a list of hosts.
        host=addresses if len(addresses) > 1 else addresses[0],
        port=port,
        title=f"hadrosaur-tui {visible(str(base), line=True)}",
        public_url=public_url(host, port),
    )
    server.serve()
    return 0


def _check_can_listen(host: str, port: int) -> None:
    """Bind and close once, so a taken port is one line of error, not aiohttp's traceback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"cannot listen on {host}: {error.strerror}; check --host") from None
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            # As aiohttp binds: SO_REUSEADDR, so a port in TIME_WAIT is not "taken".
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                raise ServeError(
                    f"cannot listen on {host} port {port}: {error.strerror}; "
                    "choose another --port (or stop what holds it)"
                ) from None


def warn_public(host: str, port: int) -> None:
    """Say, on stderr, what listening beyond this machine exposes."""
    print(
        f"hadrosaur-tui: warning: listening on {host}:{port}, beyond this machine. There is no "
        "password: anyone who reaches this port sees the base and can recompute resources. "
        "An SSH tunnel to 127.0.0.1 is the safe way (README, Monitoring: From a browser).",
        file=sys.stderr,
    )
