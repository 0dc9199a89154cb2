"""Names of the files and directories hadrosaur keeps on disk (see _store.py for the layout)."""

from __future__ import annotations

__all__ = (
    "CLAIMED_DIR",
    "COLLECTION_FILE",
    "ERROR_FILE",
    "INDEX_DIR",
    "INDEX_LOCK_FILE",
    "KEPT_DIR",
    "LEGACY_END_FILE",
    "LEGACY_INDEX_DIR",
    "LEGACY_START_FILE",
    "LOCK_FILE",
    "LOG_FILE",
    "META_FILE",
    "PLANS_DIR",
    "PLAN_MARKER_PREFIX",
    "RESULT_FILE",
    "STATUS_FILE",
    "STORAGE_DIR",
    "UPDATES_DIR",
)

STATUS_FILE = "status"
META_FILE = "meta.json"
RESULT_FILE = "result.json"
LOG_FILE = "run.log"
ERROR_FILE = "error.log"
STORAGE_DIR = "storage"
LOCK_FILE = ".lock"
COLLECTION_FILE = ".collection.json"
INDEX_DIR = ".index"
INDEX_LOCK_FILE = ".index.lock"
UPDATES_DIR = ".updates"
CLAIMED_DIR = ".claimed"
#: Under .updates/: markers of resources whose lock was held when last applied.
KEPT_DIR = ".kept"
PLANS_DIR = ".plans"
#: A marker named ``.plan.SHA`` in .updates/ says "plan SHA was added".
PLAN_MARKER_PREFIX = ".plan."
#: hadrosaur 0.4.1 kept its index here, and times in two plain files.
LEGACY_INDEX_DIR = ".status"
LEGACY_START_FILE = "start_time"
LEGACY_END_FILE = "end_time"
