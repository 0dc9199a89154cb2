"""DirectoryWatcher: file events from watchfiles, for a small set of directories.

Only the base directory, each collection's marker directory and the selected
resource's directory are watched, never recursively: one inotify watch each,
whatever the number of resources (inotify watches are a limited resource).
The set changes as collections appear and the selection moves; the watcher
then restarts on the new set.

In a marker directory only a marker that appears is news. One that leaves
was claimed by a drainer: the reader's own drain (which renames each marker
it applies into ``.claimed/``), or another reader's, whose changes the
marker's arrival already announced. Those events are filtered out
(:class:`MarkerNews`), so a drain never wakes the reader for another pass,
and a burst of fetches wakes it once per ``debounce_ms`` at most.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

__all__ = ("DirectoryWatcher", "MarkerNews")


class MarkerNews:
    """The watch filter: every event, except a marker leaving one of ``marker_dirs``."""

    def __init__(self, marker_dirs: Iterable[Path]) -> None:
        self.marker_dirs = frozenset(str(path) for path in marker_dirs)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if change != watchfiles.Change.deleted:
            return True
        return path.rpartition("/")[0] not in self.marker_dirs


class DirectoryWatcher:
    """Calls ``on_change(paths)`` from its thread when files change in the watched directories.

    A change alone is reported once 30 ms pass without another; changes that
    keep coming (workers fetching) are reported together every
    ``debounce_ms``. Each report costs a reader pass and a redraw, whatever
    it holds, so a burst costs about four of them a second, not one per
    change, while a change alone still reaches the screen in about 0.1 s.
    """

    def __init__(self, on_change: Callable[[set[str]], object], *, debounce_ms: int = 250) -> None:
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self._paths: tuple[Path, ...] = ()
        self._markers: frozenset[Path] = frozenset()
        self._lock = threading.Lock()
        self._restart = threading.Event()
        self._stopped = threading.Event()
        #: False once watching failed (e.g. no inotify); the slow poll then does the work.
        self.working = True

    def set_paths(self, paths: Iterable[Path], markers: Iterable[Path] = ()) -> None:
        """Watch exactly these directories (missing ones are skipped until they exist).

        ``markers``: those of them that are marker directories (see MarkerNews).
        """
        new = tuple(sorted(set(paths)))
        new_markers = frozenset(markers)
        with self._lock:
            if new == self._paths and new_markers == self._markers:
                return
            self._paths = new
            self._markers = new_markers
        self._restart.set()

    def stop(self) -> None:
        self._stopped.set()
        self._restart.set()

    def run(self) -> None:
        """The thread's loop: watch the current set until it changes or stop() is called."""
        while True:
            # Cleared before stop() is looked at: a stop() that comes after this line sets
            # it again and ends the watch below at once. Cleared after the look, it would
            # wipe out such a stop's wake-up, and the app would hang as it quits.
            self._restart.clear()
            if self._stopped.is_set():
                return
            with self._lock:
                paths = [p for p in self._paths if p.is_dir()]
                news = MarkerNews(self._markers)
            if not paths:
                self._restart.wait(1.0)
                continue
            try:
                for changes in watchfiles.watch(
                    *paths,
                    watch_filter=news,
                    debounce=self.debounce_ms,
                    step=30,
                    stop_event=self._restart,
                    rust_timeout=1000,
                    recursive=False,
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                ):
                    self.on_change({path for _, path in changes})
            except (OSError, RuntimeError):
                # A watched directory vanished, or inotify is unavailable/exhausted:
                # wait a moment and retry; the reader's slow poll covers the gap.
                self.working = False
                self._stopped.wait(1.0)
            else:
                self.working = True
