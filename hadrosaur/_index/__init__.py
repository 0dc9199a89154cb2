"""The LevelDB index of one collection: a derived, rebuildable cache of its directories.

One concept, one module each:

- ``kv.py``: the key-value store (a Protocol), as LevelDB or in memory; the
  one module that imports the LevelDB binding;
- ``keys.py``: the key layout (the table of keys is there);
- ``codec.py``: the encoding of records, bulk rows and change-log entries;
  what counts as damage (:class:`IndexCorrupt`);
- ``changelog.py``: the change log's epoch and bounds, and appending to it;
- ``lock.py``: the index lock, and the position its last writer recorded;
- ``opening.py``: opening the LevelDB, judging it current, deleting it;
- ``collection_index.py``: :class:`CollectionIndex`, the open index: lock,
  open or rebuild, drain, the read-only fallback, close;
- ``reads.py``: the read-only queries;
- ``peek.py``: a quick look at the idents of a current index (shell
  completion), which rebuilds, drains and scans nothing;
- ``writes.py``: the writes, one WriteBatch per change group;
- ``groups.py``: the error groups by signature, moved in the record's batch;
- ``drain.py``: claiming and applying the markers (the drain protocol);
- ``sweep.py``: kept markers and deaths (with the proof that recording
  "interrupted" never hides a newer state);
- ``rebuild.py``: rebuilding from a scan of the directories;
- ``check.py``: comparing the index with the directories.
"""

from __future__ import annotations

from .codec import IndexCorrupt
from .collection_index import DEFAULT_LOG_LIMIT, CollectionIndex
from .keys import SCHEMA_VERSION
from .kv import LevelDBError

__all__ = ("DEFAULT_LOG_LIMIT", "SCHEMA_VERSION", "CollectionIndex", "IndexCorrupt", "LevelDBError")
