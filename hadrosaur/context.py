"""Context: what a collection's function gets besides its ident and args.

``ctx.subdir`` is the resource's own storage directory and ``ctx.logger`` a
logger that writes to the resource's rotating ``run.log``. The logger is a
fresh ``logging.Logger`` that is *not* registered with ``logging.getLogger``
(whose registry never forgets a name), and its file handler is closed when
the compute ends, so a process can compute millions of resources without
leaking loggers, handlers or file descriptors.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from . import _store

__all__ = ("LOG_BACKUPS", "LOG_FORMAT", "LOG_MAX_BYTES", "Context")

#: Each line: timestamp, level, message and where it was logged from.
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(message)s (%(filename)s:%(lineno)d)"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 3


class Context:
    """Passed as the third argument to a collection's function.

    Attributes:
        collection: the collection name.
        ident: the ident being computed.
        args: the args dict of this compute.
        logger: writes to ``run.log`` in the resource directory; the file is
            created on the first line. Records also propagate to the logger
            ``hadrosaur.collection.<name>``, so an application can route them.

    Example:
        >>> @proj.resource("genomes")  # doctest: +SKIP
        ... def compute(ident, args, ctx):
        ...     ctx.logger.info("downloading %s", ident)
        ...     (ctx.subdir / "genome.fa").write_text(">" + ident)
        ...     return {"path": str(ctx.subdir / "genome.fa")}
    """

    def __init__(
        self,
        collection: str,
        ident: str,
        res_dir: str,
        args: Any,
        *,
        log_max_bytes: int = LOG_MAX_BYTES,
        log_backups: int = LOG_BACKUPS,
    ) -> None:
        self.collection = collection
        self.ident = ident
        self.args = args
        self._storage = os.path.join(res_dir, _store.STORAGE_DIR)
        self._handler = RotatingFileHandler(
            os.path.join(res_dir, _store.LOG_FILE),
            maxBytes=log_max_bytes,
            backupCount=log_backups,
            encoding="utf-8",
            delay=True,  # no empty run.log for functions that never log
        )
        self._handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
        self.logger = logging.Logger(f"hadrosaur.collection.{collection}.{ident}", logging.DEBUG)
        self.logger.parent = logging.getLogger(f"hadrosaur.collection.{collection}")
        self.logger.addHandler(self._handler)

    @property
    def subdir(self) -> Path:
        """The resource's storage directory, created on first access."""
        os.makedirs(self._storage, exist_ok=True)
        return Path(self._storage)

    def close(self) -> None:
        """Close the log file; the logger writes nowhere afterwards."""
        self.logger.removeHandler(self._handler)
        self._handler.close()
