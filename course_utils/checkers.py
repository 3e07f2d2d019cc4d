"""Exercise checkers: run a student's function against a reference and explain a mismatch.

A checker prints one line a student can read, in the course's checker shape::

    rmsprop | exact: False | allclose: True | maxdiff: 3.1e-09

and, when the answer is wrong, a hint naming the likely mistake: each known wrong variant
(e.g. "eps inside the root", "no bias correction") is tried, and the closest one is named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


def _as_arrays(value) -> list[np.ndarray]:
    if isinstance(value, tuple | list):
        out = []
        for v in value:
            out.extend(_as_arrays(v))
        return out
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return [np.asarray(value, dtype=np.float64)]


def with_copied_arguments(fn: Callable) -> Callable:
    """Call ``fn`` on copies of its array arguments, so an in-place update cannot change the caller's."""

    def wrapped(*args):
        return fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])

    return wrapped


def max_difference(a, b) -> float:
    """Largest absolute elementwise difference between two (nested) results; inf if shapes differ."""
    xs, ys = _as_arrays(a), _as_arrays(b)
    if len(xs) != len(ys) or any(x.shape != y.shape for x, y in zip(xs, ys)):
        return float("inf")
    diffs = [np.max(np.abs(x - y)) if x.size else 0.0 for x, y in zip(xs, ys)]
    return float(max(diffs, default=0.0))


@dataclass
class CheckResult:
    """Outcome of one check; ``passed`` is what an assert cell should test."""

    name: str
    exact: bool
    allclose: bool
    maxdiff: float
    hint: str = ""
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.allclose

    def line(self) -> str:
        return f"{self.name} | exact: {self.exact} | allclose: {self.allclose} | maxdiff: {self.maxdiff:.2g}"

    def __str__(self) -> str:
        text = self.line()
        if not self.passed:
            text += "\n  " + (
                self.hint or "Compare your formula line by line with the markdown above."
            )
        return text


def compare(name: str, got, expected, rtol: float = 1e-5, atol: float = 1e-8) -> CheckResult:
    """Compare two results (arrays, tensors, or tuples of them) in the checker shape."""
    diff = max_difference(got, expected)
    xs, ys = _as_arrays(got), _as_arrays(expected)
    same_shape = diff != float("inf")
    exact = same_shape and all(np.array_equal(x, y) for x, y in zip(xs, ys))
    close = same_shape and all(np.allclose(x, y, rtol=rtol, atol=atol) for x, y in zip(xs, ys))
    return CheckResult(name, exact, close, diff)


def check_against_reference(
    name: str,
    student_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[tuple],
    wrong_variants: dict[str, Callable] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    verbose: bool = True,
) -> CheckResult:
    """Run ``student_fn(*case)`` and ``reference_fn(*case)`` on every case and compare.

    ``wrong_variants`` maps a hint ("eps is inside the square root: ...") to a function that
    makes that mistake; if the student's output matches one, that hint is shown.
    """
    worst: CheckResult | None = None
    for case in cases:
        try:
            got = student_fn(*case)
        except Exception as exc:
            result = CheckResult(
                name,
                False,
                False,
                float("inf"),
                hint=f"Your function raised {type(exc).__name__}: {exc}",
            )
            if verbose:
                print(result)
            return result
        result = compare(name, got, reference_fn(*case), rtol=rtol, atol=atol)
        if not result.passed:
            for hint, wrong_fn in (wrong_variants or {}).items():
                if compare(name, got, wrong_fn(*case), rtol=rtol, atol=atol).passed:
                    result.hint = "Likely mistake: " + hint
                    break
            if verbose:
                print(result)
            return result
        if worst is None or result.maxdiff > worst.maxdiff:
            worst = result
    if verbose:
        print(worst)
    return worst


def check_value(
    name: str, got: float, expected: float, rtol: float = 1e-3, why: str = ""
) -> CheckResult:
    """Check a numeric answer (e.g. a derived best step size) and say why when it is wrong."""
    result = compare(name, np.float64(got), np.float64(expected), rtol=rtol, atol=0.0)
    if not result.passed:
        off = abs(got - expected) / abs(expected) if expected else abs(got)
        result.hint = f"Not yet: your {got:.6g} is off by {off:.1%}. {why}".strip()
    print(result)
    return result
