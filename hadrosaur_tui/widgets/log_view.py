"""LogView: tails a log file like ``tail -f`` and draws only the lines on screen.

The widget keeps an array of line start offsets and reads each visible line
with ``os.pread`` when it is drawn, so a huge log costs memory for its
offsets only. Each ``poll`` indexes the bytes appended since the last one.
Truncation (the file shrank) and rotation (a new inode at the path, as the
resource's log handler makes when it moves ``run.log`` aside) are detected by
comparing size and inode, and the view restarts from the top of the new
file. Each line is drawn through :func:`hadrosaur.display.visible`: an escape
sequence a log holds is shown as ``^[...``, never sent to the terminal.

Nothing inside the base directory is trusted: a log that is a symlink (or a
FIFO, a device), or sits in a resource directory that is a symlink, is never
opened; the view shows a one-line note saying so instead of any content.
"""

from __future__ import annotations

import contextlib
import os
import stat
from array import array
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

from rich.cells import chop_cells
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hadrosaur.display import visible

__all__ = ("LogView",)

_CHUNK = 4 * 1024 * 1024  # index at most this much per poll, so a huge log loads progressively
_CACHE_LINES = 512
_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class LogView(ScrollView, can_focus=True):
    """A live, virtual view of one text file."""

    COMPONENT_CLASSES = {
        "log-view--time",
        "log-view--error",
        "log-view--warning",
        "log-view--debug",
        "log-view--message",
    }

    BINDINGS = [
        Binding("up,k", "scroll_lines(-1)", "Up", show=False),
        Binding("down,j", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_lines(-20)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(20)", "Page down", show=False),
    ]

    follow: reactive[bool] = reactive(True)
    wrap: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.path: Path | None = None
        self.empty_text = "No log yet."
        #: Why the file is not shown ("" when it is): a symlink, a FIFO...
        self.refused = ""
        self._fd: int | None = None
        self._inode: tuple[int, int] | None = None
        self._offsets = array("q")  # start of each complete line
        self._indexed = 0  # bytes indexed; the partial last line starts here
        self._file_size = 0
        self._line_cache: dict[int, str] = {}
        self._wrap_rows: list[int] = []  # with wrap: cumulative visual rows per line
        self._longest = 0  # longest line seen, in bytes (sizes the horizontal scroll)

    # -- the file ----------------------------------------------------------------

    def show(self, path: Path | None, empty_text: str = "No log yet.") -> None:
        """Switch to another file (None: show ``empty_text``)."""
        self._close()
        self.path = path
        self.empty_text = visible(empty_text, line=True)
        self.refused = ""
        self.follow = True
        self.poll()
        self.scroll_to(y=0, animate=False)
        self._scroll_to_end_if_following()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._inode = None
        self._offsets = array("q")
        self._indexed = 0
        self._file_size = 0
        self._line_cache.clear()
        self._wrap_rows = []
        self._longest = 0

    def on_unmount(self) -> None:
        self._close()

    def poll(self) -> bool:
        """Index what was appended; handle truncation and rotation. True if anything changed."""
        if self.path is None:
            return False
        try:
            st = _lstat_checked(self.path)
        except (FileNotFoundError, NotADirectoryError):
            if self._fd is None and not self.refused:
                return False
            self._close()  # the file vanished (rotation in progress, or removed)
            self.refused = ""
            self._refresh_size()
            return True
        except _Refused as exc:
            if self.refused == exc.note and self._fd is None:
                return False
            self._close()
            self.refused = exc.note
            self._refresh_size()
            return True
        if self.refused:
            self.refused = ""
            self._refresh_size()
        identity = (st.st_dev, st.st_ino)
        if self._fd is not None and (identity != self._inode or st.st_size < self._file_size):
            self._close()  # rotated (new inode) or truncated: start over
        if self._fd is None:
            try:
                # O_NOFOLLOW: a symlink put there since the lstat is still refused.
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                return False
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != identity:
                os.close(fd)  # replaced between the lstat and the open: next poll
                return False
            self._fd = fd
            self._inode = identity
            self._offsets = array("q", [0])
        if st.st_size == self._file_size:
            return False
        self._index_to(st.st_size)
        self._refresh_size()
        self._scroll_to_end_if_following()
        return True

    def _index_to(self, size: int) -> None:
        assert self._fd is not None
        end = min(size, self._indexed + _CHUNK)
        data = os.pread(self._fd, end - self._indexed, self._indexed)
        base = self._indexed
        offsets = self._offsets
        # The last line held may have been partial and may grow now: forget its text.
        self._line_cache.pop(len(offsets) - 1, None)
        pos = data.find(b"\n")
        while pos != -1:
            start = base + pos + 1
            self._longest = max(self._longest, start - offsets[-1])
            offsets.append(start)
            pos = data.find(b"\n", pos + 1)
        self._file_size = base + len(data)
        self._indexed = self._file_size
        if self._file_size < size:
            self.call_later(self.poll)  # index the rest on the next turn of the loop

    @property
    def line_count(self) -> int:
        """Lines held, counting a partial last line."""
        if not self._offsets:
            return 0
        complete = len(self._offsets) - 1
        return complete + (1 if self._offsets[-1] < self._file_size else 0)

    def _line(self, index: int) -> str:
        text = self._line_cache.get(index)
        if text is not None:
            return text
        if self._fd is None:
            return ""
        start = self._offsets[index]
        stop = self._offsets[index + 1] if index + 1 < len(self._offsets) else self._file_size
        raw = os.pread(self._fd, stop - start, start)
        text = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\t", "    ")
        text = visible(text, line=True)  # a CR left inside the line shows as ^M
        if len(self._line_cache) > _CACHE_LINES:
            self._line_cache.clear()
        self._line_cache[index] = text
        return text

    # -- layout ------------------------------------------------------------------

    def _refresh_size(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        lines = self.line_count
        if self.wrap:
            offsets, size = self._offsets, self._file_size
            heights = (
                max(
                    1,
                    -(
                        -((offsets[i + 1] if i + 1 < len(offsets) else size) - offsets[i] - 1)
                        // width
                    ),
                )
                for i in range(lines)
            )
            self._wrap_rows = list(accumulate(heights))
            height = self._wrap_rows[-1] if self._wrap_rows else 0
            self.virtual_size = Size(width, max(1, height))
        else:
            self._wrap_rows = []
            longest = max(
                self._longest, self._file_size - self._offsets[-1] if self._offsets else 0
            )
            self.virtual_size = Size(max(width, longest), max(1, lines))
        self.refresh()

    def on_resize(self) -> None:
        self._refresh_size()

    def watch_wrap(self) -> None:
        self._refresh_size()
        self._scroll_to_end_if_following()

    def watch_follow(self, follow: bool) -> None:
        self._scroll_to_end_if_following()

    def _scroll_to_end_if_following(self) -> None:
        if self.follow:
            # After the next refresh: the new virtual size is only applied by the layout.
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def action_scroll_lines(self, delta: int) -> None:
        if delta < 0:
            self.follow = False
        self.scroll_to(y=max(0, self.scroll_y + delta), animate=False)
        if self.scroll_y >= self.max_scroll_y:
            self.follow = True

    def jump(self, end: bool) -> None:
        """Go to the top (stop following) or the bottom (follow again)."""
        self.follow = end
        if not end:
            self.scroll_to(y=0, animate=False)

    def on_mouse_scroll_up(self) -> None:
        self.follow = False

    # -- drawing -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        if self.line_count == 0:
            if y == 0:
                style = self.get_component_rich_style("log-view--debug")
                note = self.refused or self.empty_text
                return Strip([Segment(note, style)]).extend_cell_length(width, self.rich_style)
            return Strip.blank(width, self.rich_style)
        if self.wrap and self._wrap_rows:
            index = bisect_right(self._wrap_rows, row)
            if index >= self.line_count:
                return Strip.blank(width, self.rich_style)
            first_row = self._wrap_rows[index - 1] if index else 0
            pieces = chop_cells(self._line(index), width) or [""]
            part = row - first_row
            text = pieces[part] if part < len(pieces) else ""
            return Strip(self._styled(text, part == 0)).extend_cell_length(width, self.rich_style)
        if row >= self.line_count:
            return Strip.blank(width, self.rich_style)
        strip = Strip(self._styled(self._line(row), True))
        scroll_x = int(self.scroll_x)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)

    def _styled(self, text: str, is_line_start: bool) -> list[Segment]:
        """Colour the logging format: a dim time stamp, the level in its colour."""
        message = self.get_component_rich_style("log-view--message")
        if not is_line_start or len(text) < 20 or text[4] != "-" or text[19] != " ":
            return [Segment(text, message)]
        rest = text[20:]
        level = next((name for name in _LEVELS if rest.startswith(name)), None)
        if level is None:
            return [Segment(text, message)]
        level_class = {
            "CRITICAL": "log-view--error",
            "ERROR": "log-view--error",
            "WARNING": "log-view--warning",
            "DEBUG": "log-view--debug",
        }.get(level, "log-view--message")
        return [
            Segment(text[:20], self.get_component_rich_style("log-view--time")),
            Segment(rest[: len(level)], self.get_component_rich_style(level_class)),
            Segment(rest[len(level) :], message),
        ]

    def log_text(self) -> str:
        """The whole text held (for tests and copying)."""
        with contextlib.suppress(OSError):
            return "\n".join(self._line(i) for i in range(self.line_count))
        return ""


class _Refused(Exception):
    """The log must not be opened; ``note`` is the one line shown instead."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def _lstat_checked(path: Path) -> os.stat_result:
    """lstat of a log file whose directory and self are not symlinks; _Refused otherwise.

    O_NOFOLLOW on the open guards only the file's own name, so its directory
    (the resource directory) is checked too.
    """
    parent = os.lstat(path.parent).st_mode
    if not stat.S_ISDIR(parent):
        raise _Refused(_note(path.parent.name, parent, "a directory"))
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _Refused(_note(path.name, st.st_mode, "a regular file"))
    return st


def _note(name: str, mode: int, expected: str) -> str:
    if stat.S_ISLNK(mode):
        return (
            f"Not shown: {name} is a symbolic link, and hadrosaur never follows a link "
            "inside the base directory."
        )
    return f"Not shown: {name} is not {expected}."
