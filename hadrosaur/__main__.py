"""``python -m hadrosaur ...``: the same as the ``hadrosaur`` command (see the cli package)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
