"""The progress bar of fetch_many shows the collection's name as text."""

from __future__ import annotations

import pytest

from hadrosaur._progress import ProgressBar


@pytest.mark.parametrize("name", ["a[/b]", "c[", "[bold]x", "ok-[@click=app.quit]y"])
def test_a_collection_name_with_brackets_is_drawn_as_it_is(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with ProgressBar(name, total=2, done=0, enabled=True) as bar:
        bar.advance(2, errors=1)
    assert name in capsys.readouterr().err
