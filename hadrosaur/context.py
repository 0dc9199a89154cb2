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
from pathlib import Path
from typing import Any

from . import _store
from ._log_file import ResourceLogHandler
from ._nofollow import require_directory

__all__ = ("LOG_BACKUPS", "LOG_FORMAT", "LOG_MAX_BYTES", "Context")

#: Each line: timestamp, level, message and where it was logged from.
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(message)s (%(filename)s:%(lineno)d)"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 3
_FORMATTER = logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT)


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
        self._res_dir = res_dir
        self._storage = f"{res_dir}/{_store.STORAGE_DIR}"
        self._log_max_bytes = log_max_bytes
        self._log_backups = log_backups
        self._logger: logging.Logger | None = None
        self._handler: ResourceLogHandler | None = None
        self._closed = False

    @property
    def logger(self) -> logging.Logger:
        """The resource's logger, made on first use: most functions of a long run never log."""
        if self._logger is None:
            # Not logging.getLogger: its registry would keep every resource's logger.
            logger = logging.Logger(
                f"hadrosaur.collection.{self.collection}.{self.ident}", logging.DEBUG
            )
            logger.parent = logging.getLogger(f"hadrosaur.collection.{self.collection}")
            if not self._closed:  # after the compute, records only propagate
                self._handler = ResourceLogHandler(
                    f"{self._res_dir}/{_store.LOG_FILE}", self._log_max_bytes, self._log_backups
                )
                self._handler.setFormatter(_FORMATTER)
                logger.addHandler(self._handler)
            self._logger = logger
        return self._logger

    @property
    def subdir(self) -> Path:
        """The resource's storage directory, created on first access.

        Raises:
            RefusedPath: storage/ is a symlink (or a file). Whatever the
                function wrote there would land in the link's target, outside
                the base directory, so the function gets this error instead
                (recorded as its failure, with the traceback).
        """
        try:
            os.mkdir(self._storage)
        except FileExistsError:
            # mkdir does not follow a link, but it fails on one: check what is there.
            if not require_directory(self._storage, "a storage directory"):
                os.makedirs(self._storage, exist_ok=True)  # removed since: make it again
        except FileNotFoundError:  # the resource directory was removed during the compute
            os.makedirs(self._storage, exist_ok=True)
        return Path(self._storage)

    def close(self) -> None:
        """Close the log file; the logger writes nowhere afterwards."""
        self._closed = True
        if self._logger is not None and self._handler is not None:
            self._logger.removeHandler(self._handler)
            self._handler.close()
