"""What every command line and benchmark of the course shares: argument checks, thread limits.

``checked(convert, ok, what)`` builds an argparse ``type=`` that converts the text, checks it and
says what was expected, so every command line rejects bad input with the same kind of message.
``limit_threads(n)`` pins the number of threads torch and NumPy's BLAS use inside a ``with`` block
(threadpoolctl does the BLAS part), so that results and timings do not depend on how many cores
the machine has. It does not shield timings from the machine's load: other programs still take
time from a pinned thread (measure with interleaved repeats and read the fastest).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from threadpoolctl import threadpool_limits


def checked(convert: Callable[[str], Any], ok: Callable[[Any], bool], what: str) -> Callable:
    """An argparse type: ``convert(text)``, then ``ok(value)``, else an error saying ``what`` was expected."""

    def parse(text: str):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


positive_int = checked(int, lambda n: n >= 1, "a positive integer (1, 2, ...)")
nonnegative_int = checked(int, lambda n: n >= 0, "an integer >= 0")
positive_float = checked(float, lambda x: x > 0 and x != float("inf"), "a positive number")
nonnegative_float = checked(float, lambda x: 0 <= x < float("inf"), "a number >= 0")


@contextlib.contextmanager
def limit_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` threads for torch and for NumPy's BLAS (``None``: leave them alone)."""
    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"threads={n!r}: use a positive number of threads, e.g. 1 or 2.")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)
