"""The progress line: drawn on a terminal, silent elsewhere."""

from __future__ import annotations

import io

from scanner.cli.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_and_clears_on_a_terminal() -> None:
    screen = FakeTerminal()
    progress = Progress(screen)
    progress.update("10 commits, 5/7 blobs")
    progress.update("ignored: within 0.1 s of the last redraw")
    progress.close()
    assert screen.getvalue().startswith("\rdevtoken: 10 commits, 5/7 blobs")
    assert "ignored" not in screen.getvalue()
    assert screen.getvalue().endswith("\r")


def test_silent_when_not_a_terminal_or_disabled() -> None:
    pipe = io.StringIO()
    Progress(pipe).update("x")
    quiet = FakeTerminal()
    Progress(quiet, enabled=False).update("x")
    assert pipe.getvalue() == "" and quiet.getvalue() == ""
