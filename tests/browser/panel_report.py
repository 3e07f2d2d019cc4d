"""Result lines of the browser tests, printed again in the end-of-run summary by conftest.py."""

from __future__ import annotations

import time

LINES: list[str] = []
START: list[float] = []
END: list[float] = []


def report(line: str) -> None:
    """Print a result line now (visible with -s) and again at the end of the pytest run."""
    print(line)
    LINES.append(line)
    END[:] = [time.time()]


def mark_start() -> None:
    """Remember when the first browser test began (for the wall time in the summary)."""
    if not START:
        START.append(time.time())
