"""Bytes and inodes on disk, counted the way ``du`` and ``df -i`` would."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ("disk_usage",)


def disk_usage(root: Path) -> dict[str, int]:
    """Allocated bytes, apparent bytes, files and directories under ``root`` (itself excluded).

    Allocated bytes (``st_blocks``) are what the filesystem spends: on ext4
    every non-empty small file and every directory takes a 4 KiB block.
    """
    allocated = apparent = files = dirs = 0
    stack = [os.fspath(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                allocated += st.st_blocks * 512
                apparent += st.st_size
                if entry.is_dir(follow_symlinks=False):
                    dirs += 1
                    stack.append(entry.path)
                else:
                    files += 1
    return {
        "allocated_bytes": allocated,
        "apparent_bytes": apparent,
        "files": files,
        "dirs": dirs,
        "inodes": files + dirs,
    }
