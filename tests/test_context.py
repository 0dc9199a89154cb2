"""ctx.logger and ctx.subdir: a log per resource, nothing leaked between resources."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hadrosaur import Context, Project


def test_each_resource_logs_to_its_own_file_and_the_handler_is_closed(proj: Project) -> None:
    contexts: list[Context] = []

    @proj.resource("logs")
    def f(ident: str, args: Any, ctx: Context) -> None:
        contexts.append(ctx)
        ctx.logger.warning("hello from %s", ident)

    proj.fetch("logs", "a")
    proj.fetch("logs", "b")
    assert "hello from a" in proj.fetch_log("logs", "a")
    assert "hello from b" not in proj.fetch_log("logs", "a")
    # After the compute the logger writes nowhere: its handler is closed and removed.
    contexts[0].logger.warning("late line")
    assert "late line" not in proj.fetch_log("logs", "a")
    assert contexts[0].logger.handlers == []
    registered = logging.Logger.manager.loggerDict
    assert not any(name.endswith((".a", ".b")) for name in registered), "no per-resource loggers"


def test_log_lines_reach_the_collection_logger(proj: Project) -> None:
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    logging.getLogger("hadrosaur.collection.routed").addHandler(handler)
    try:

        @proj.resource("routed")
        def f(ident: str, args: Any, ctx: Context) -> None:
            ctx.logger.info("routed %s", ident)

        proj.fetch("routed", "x")
    finally:
        logging.getLogger("hadrosaur.collection.routed").removeHandler(handler)
    assert seen == ["routed x"]


def test_the_log_rotates_and_fetch_log_returns_every_part(base: Path) -> None:
    proj = Project(base, log_max_bytes=2000, log_backups=2)

    @proj.resource("chatty")
    def f(ident: str, args: Any, ctx: Context) -> None:
        for i in range(60):
            ctx.logger.info("line %03d %s", i, "x" * 40)

    res = proj.fetch("chatty", "a")
    assert (res.paths["base"] / "run.log.1").exists()
    log = proj.fetch_log("chatty", "a")
    assert "line 059" in log and log.index("line 040") < log.index("line 059")
    assert len(log) < 2000 * 3 + 200  # older parts beyond log_backups were dropped


def test_context_exposes_ident_args_and_collection(proj: Project) -> None:
    @proj.resource("echo")
    def f(ident: str, args: Any, ctx: Context) -> list[Any]:
        return [ctx.collection, ctx.ident, ctx.args]

    assert proj.fetch("echo", "i", {"k": 1}).result == ["echo", "i", {"k": 1}]


def test_a_function_that_never_logs_leaves_no_log_file(proj: Project) -> None:
    contexts: list[Context] = []

    @proj.resource("quiet")
    def f(ident: str, args: Any, ctx: Context) -> int:
        contexts.append(ctx)
        return 1

    res = proj.fetch("quiet", "q")
    assert not (Path(res.directory) / "run.log").exists()
    # First use of the logger after the compute: it must not open a file now.
    contexts[0].logger.warning("too late")
    assert contexts[0].logger.handlers == []
    assert not (Path(res.directory) / "run.log").exists()
