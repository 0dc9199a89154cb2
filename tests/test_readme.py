"""The README's Python examples run as written, in order, in a fresh directory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO


def python_blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_readme_examples_run(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    for number, block in enumerate(blocks):
        script = tmp_path / f"block{number}.py"
        script.write_text(block)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, f"README block {number} failed:\n{done.stderr}"
    assert (tmp_path / "base_directory" / "genomes" / "GCF_0001" / "result.json").exists()

    # The tutorial follows its own rule (the pipeline under the main guard): recompute
    # loads its function from the script without running the script's pipeline again.
    done = subprocess.run(
        [sys.executable, "-m", "hadrosaur", "recompute", "base_directory", "genomes", "GCF_0003"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr  # GCF_0003 fails again, by design
    assert "GCF_0003" in done.stdout and "no such assembly" in done.stdout
    assert "{'counts':" not in done.stdout + done.stderr  # the tutorial's stats() print
    assert "GCF_0001" not in done.stdout + done.stderr
