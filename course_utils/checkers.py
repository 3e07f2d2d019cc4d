"""Exercise checkers: one record per exercise, run against a student's answer, explained in words.

Every exercise of the course is an :class:`Exercise`: its name, its cases, a reference, the known
mistakes (each a hint and a function or value that makes the mistake) and a :class:`Tolerance`.
A checker prints one line a student can read, in the course's checker shape::

    rmsprop_step | exact: False | allclose: True | maxdiff: 3.1e-09

and, when the answer is wrong, one more line: the hint of the known mistake the answer matches,
or what went wrong (an exception, a time-out, NaN, a wrong shape, values in the wrong order), or
the generic hint. The checker never shows a traceback of its own.

What a student may hand in:

* a function: it is called on a fresh copy of every argument (arrays, tensors, nested lists), so
  an in-place update (``G += g*g; w -= ...``) is as good as a new array; it may return NumPy
  arrays, torch tensors, lists, tuples or scalars; each case has a time limit.
* a number (:meth:`Exercise.check_answer`): a Python float, a NumPy scalar, a 0-d tensor or a
  one-element array; it passes when it agrees with the reference to the precision the question
  asks for (``Tolerance(sig_figs=3)``, ``Tolerance(decimals=2)``).
"""

from __future__ import annotations

import copy
import itertools
import math
import signal
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GENERIC_HINT = "Compare your formula line by line with the markdown above."


class _TimeUp(BaseException):
    """Raised inside a student's function when its case's time is up (not an ``Exception``, so a
    bare ``except Exception`` in the student's code cannot swallow it)."""


class _BadAnswer(Exception):
    """What a student's answer looks like, when it cannot be compared (one line for the student)."""


@dataclass(frozen=True)
class Tolerance:
    """When an answer counts as equal to the reference, elementwise.

    ``|got - expected| <= atol + rtol |expected|`` (as ``np.allclose``), widened to half a unit
    of the last asked digit when the question asks for ``sig_figs`` significant figures or
    ``decimals`` decimal places: 166.7 and 167 both pass for 166.67 at 3 significant figures.
    ``words`` names the asked precision when rtol/atol express it ("3 significant figures").
    """

    rtol: float = 1e-7
    atol: float = 1e-12
    sig_figs: int | None = None
    decimals: int | None = None
    words: str = ""

    def bound(self, expected) -> np.ndarray:
        """The largest accepted absolute difference, elementwise, for these expected values."""
        e = np.abs(np.asarray(expected, dtype=np.float64))
        bound = self.atol + self.rtol * e
        if self.sig_figs is not None:
            with np.errstate(divide="ignore"):
                exponent = np.floor(np.log10(np.where(e > 0, e, 1.0)))
            bound = np.maximum(bound, 0.5 * 10.0 ** (exponent - self.sig_figs + 1))
        if self.decimals is not None:
            bound = np.maximum(bound, 0.5 * 10.0 ** (-self.decimals))
        return bound * (1 + 1e-9) + 1e-300  # a typed-in rounded value is not lost to binary floats

    def describe(self) -> str:
        """The asked precision in words ("3 significant figures"), or "" when none is asked."""
        if self.words:
            return self.words
        if self.sig_figs is not None:
            return f"{self.sig_figs} significant figures"
        if self.decimals is not None:
            return f"{self.decimals} decimal places"
        return ""


@dataclass
class CheckResult:
    """Outcome of one check; ``passed`` is what an assert cell should test."""

    name: str
    exact: bool
    allclose: bool
    maxdiff: float
    hint: str = ""
    details: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.allclose

    def line(self) -> str:
        return (
            f"{self.name} | exact: {self.exact} | allclose: {self.allclose} | "
            f"maxdiff: {self.maxdiff:.2g}"
        )

    def __str__(self) -> str:
        text = self.line()
        if not self.passed:
            text += "\n  " + (self.hint or GENERIC_HINT)
        elif self.note:
            text += "\n  " + self.note
        return text


# ------------------------------------------------------------------------------- coercion


def _to_numpy(value):
    """Tensors to arrays, recursively through lists and tuples; anything else unchanged."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, list | tuple):
        return [_to_numpy(v) for v in value]
    return value


def _as_float_array(value, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _BadAnswer(
            f"{what} is not an array of numbers (got {type(value).__name__}): "
            "return NumPy arrays, tensors or lists of numbers of one shape."
        ) from None
    return arr


def _outputs(value, names: Sequence[str]) -> list[np.ndarray]:
    """Coerce what a function returned into one float64 array per expected output."""
    if value is None:
        raise _BadAnswer(f"Your function returned None: end it with `return {', '.join(names)}`.")
    value = _to_numpy(value)
    if len(names) == 1:
        if isinstance(value, list) and len(value) == 1 and np.ndim(value[0]) > 0:
            value = value[0]  # a 1-tuple (m_hat,)
        return [_as_float_array(value, f"Your {names[0]}")]
    if not isinstance(value, list) or len(value) != len(names):
        count = len(value) if isinstance(value, list) else 1
        raise _BadAnswer(
            f"Your function returned {count} value{'s' if count != 1 else ''}; it should return "
            f"{len(names)}: ({', '.join(names)})."
        )
    return [_as_float_array(v, f"Your {n}") for v, n in zip(value, names)]


def _shape_words(got: list[np.ndarray], expected: list[np.ndarray], names: Sequence[str]) -> str:
    for g, e, n in zip(got, expected, names):
        if g.shape != e.shape:
            extra = " (the same values in another shape?)" if g.size == e.size else ""
            return f"Your {n} has shape {g.shape}; it should have shape {e.shape}{extra}."
    return ""


def _nonfinite_words(got: list[np.ndarray], expected: list[np.ndarray], names) -> str:
    for g, e, n in zip(got, expected, names):
        bad = ~np.isfinite(g) & np.isfinite(e)
        if bad.any():
            kind = "NaN" if np.isnan(g[bad]).any() else "inf"
            where = f" ({int(bad.sum())} of {g.size} values)" if g.ndim else ""
            return (
                f"Your {n} contains {kind}{where} where the answer is a finite number: "
                "look for a division by zero, or a square root or log of a negative number."
            )
    return ""


def max_difference(a, b) -> float:
    """Largest absolute elementwise difference between two (nested) results; inf if shapes differ."""
    xs, ys = _flat_arrays(a), _flat_arrays(b)
    if len(xs) != len(ys) or any(x.shape != y.shape for x, y in zip(xs, ys)):
        return float("inf")
    with np.errstate(invalid="ignore"):
        diffs = [float(np.max(np.abs(x - y))) if x.size else 0.0 for x, y in zip(xs, ys)]
    return float(max(diffs, default=0.0))


def _flat_arrays(value) -> list[np.ndarray]:
    value = _to_numpy(value)
    if isinstance(value, list):
        return [a for v in value for a in _flat_arrays(v)]
    return [np.asarray(value, dtype=np.float64)]


def compare(name: str, got, expected, rtol: float = 1e-5, atol: float = 1e-8) -> CheckResult:
    """Compare two results (arrays, tensors, or tuples of them) in the checker shape."""
    return _compare_arrays(name, _flat_arrays(got), _flat_arrays(expected), Tolerance(rtol, atol))


def _compare_arrays(name, got: list[np.ndarray], expected: list[np.ndarray], tol: Tolerance):
    diff = max_difference(got, expected)
    if diff == float("inf") and any(g.shape != e.shape for g, e in zip(got, expected)):
        return CheckResult(name, False, False, diff)
    exact = all(np.array_equal(g, e) for g, e in zip(got, expected))
    with np.errstate(invalid="ignore"):
        close = all(
            bool(np.all((np.abs(g - e) <= tol.bound(e)) | (g == e) | (np.isnan(g) & np.isnan(e))))
            for g, e in zip(got, expected)
        )
    return CheckResult(name, exact, close, diff)


# ------------------------------------------------------------------------------- running


def _run_quietly(fn: Callable, args: tuple, seconds: float):
    """``fn(*args)`` with NumPy's and Python's runtime warnings off, stopped after ``seconds``."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            return _run_with_alarm(fn, args, seconds)
        return _run_in_thread(fn, args, seconds)


def _run_with_alarm(fn: Callable, args: tuple, seconds: float):
    def time_up(signum, frame):
        raise _TimeUp

    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, time_up)
    previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:  # someone else's alarm (a test timeout): give it back its rest
            left = previous_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def _run_in_thread(fn: Callable, args: tuple, seconds: float):
    # Without SIGALRM (Windows, or not the main thread) an endless loop cannot be stopped: it is
    # left running in a daemon thread, and the checker reports the time-out.
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _TimeUp
    if "error" in box:
        raise box["error"]
    return box["value"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _quiet(fn: Callable, args: tuple):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def _number(answer, answer_name: str) -> float:
    """A student's numeric answer as a float: Python and NumPy numbers, 0-d tensors, 1 element."""
    value = _to_numpy(answer)
    if isinstance(value, bool | str) or value is None:
        raise _BadAnswer(f"Assign a number to {answer_name}, then run the cell again.")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _BadAnswer(f"Assign a number to {answer_name}, then run the cell again.") from None
    if arr.size != 1:
        raise _BadAnswer(f"{answer_name} should be one number; it has shape {arr.shape}.")
    return float(arr.reshape(()))


# ------------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class Exercise:
    """One exercise: what it is called, how it is checked, and the mistakes it recognises.

    ``reference(*case)`` gives the right answer on each case (a tuple returns several values,
    named by ``outputs``). ``mistakes`` maps a hint to a function making that mistake (for a
    number: the wrong value, or a function of no arguments). A function answer is checked with
    :meth:`check`, a number with :meth:`check_answer` (then ``cases`` is not used).
    """

    name: str
    reference: Callable[..., Any]
    cases: Sequence[tuple] | Callable[[], Sequence[tuple]] = ((),)
    mistakes: Mapping[str, Any] = field(default_factory=dict)
    tolerance: Tolerance = Tolerance()
    outputs: tuple[str, ...] = ()
    hint: str = GENERIC_HINT
    time_limit_s: float = 20.0

    def check(self, student_fn: Callable, verbose: bool = True) -> CheckResult:
        """Run ``student_fn(*case)`` on a fresh copy of every case; print and return the result."""
        cases = list(self.cases() if callable(self.cases) else self.cases)
        worst: CheckResult | None = None
        for k, case in enumerate(cases):
            result = self._check_case(student_fn, case, f"case {k + 1} of {len(cases)}")
            if not result.passed:
                worst = result
                break
            if worst is None or result.maxdiff > worst.maxdiff:
                worst = result
        if verbose:
            print(worst)
        return worst

    def _names(self, value) -> tuple[str, ...]:
        if self.outputs:
            return self.outputs
        count = len(value) if isinstance(value, tuple) else 1
        return ("answer",) if count == 1 else tuple(f"value {i + 1}" for i in range(count))

    def _check_case(self, student_fn: Callable, case: tuple, which: str) -> CheckResult:
        reference = _quiet(self.reference, copy.deepcopy(case))
        names = self._names(reference)
        expected = _outputs(reference, names)

        def failed(hint: str) -> CheckResult:
            return CheckResult(self.name, False, False, float("inf"), hint=hint)

        try:
            got = _outputs(_run_quietly(student_fn, copy.deepcopy(case), self.time_limit_s), names)
        except _TimeUp:
            return failed(
                f"Your function did not finish within {self.time_limit_s:g} s ({which}): "
                "is there a loop that never ends?"
            )
        except _BadAnswer as exc:
            return failed(str(exc))
        except Exception as exc:
            return failed(f"Your function raised {_first_line(exc)}")
        got = [g.reshape(()) if e.ndim == 0 and g.size == 1 else g for g, e in zip(got, expected)]
        shape_words = _shape_words(got, expected, names)
        if shape_words:
            return failed(shape_words)
        result = _compare_arrays(self.name, got, expected, self.tolerance)
        if not result.passed:
            result.hint = self._diagnose(got, expected, case, names)
        return result

    def _matches(self, got: list[np.ndarray], wrong, case: tuple, names) -> bool:
        try:
            value = _quiet(wrong, copy.deepcopy(case)) if callable(wrong) else wrong
            other = _outputs(value, names)
        except Exception:  # a mistake that cannot run on this case is simply not this mistake
            return False
        if _shape_words(got, other, names):
            return False
        return _compare_arrays(self.name, got, other, self.tolerance).passed

    def _diagnose(self, got: list[np.ndarray], expected: list[np.ndarray], case, names) -> str:
        for hint, wrong in self.mistakes.items():
            if self._matches(got, wrong, case, names):
                return "Likely mistake: " + hint
        nonfinite = _nonfinite_words(got, expected, names)
        if nonfinite:
            return nonfinite
        if len(names) == 1:
            return self.hint
        for order in itertools.permutations(range(len(names))):
            shuffled = [got[i] for i in order]
            if list(order) != sorted(order) and self._matches(shuffled, tuple(expected), (), names):
                yours = [""] * len(names)
                for k, position in enumerate(order):
                    yours[position] = names[k]
                return (
                    "Likely mistake: the values are returned in the wrong order: you return "
                    f"({', '.join(yours)}); the exercise asks for ({', '.join(names)})."
                )
        right = [
            n
            for g, e, n in zip(got, expected, names)
            if _compare_arrays(self.name, [g], [e], self.tolerance).passed
        ]
        if not right:
            return self.hint
        differ = [n for n in names if n not in right]
        return f"Your {', '.join(right)} {_is(right)} right, your {', '.join(differ)} not. {self.hint}"

    def check_answer(
        self,
        answer,
        verbose: bool = True,
        answer_name: str = "your answer",
        shown: str = "",
        note: str = "",
        pass_note: str = "",
    ) -> CheckResult:
        """Check a numeric answer against ``reference()``.

        ``shown`` replaces "your <answer>" in the hint; ``note`` is the line printed under a pass
        that is not exact (by default "Right, rounded to ...: the full value is ..."), and
        ``pass_note`` one printed under every pass.
        """
        expected = float(_quiet(self.reference, ()))
        try:
            got = _number(answer, answer_name)
        except _BadAnswer as exc:
            result = CheckResult(self.name, False, False, float("inf"), hint=str(exc))
        else:
            result = _compare_arrays(self.name, [np.float64(got)], [np.float64(expected)],
                                     self.tolerance)
            if result.passed and pass_note:
                result.note = pass_note
            elif result.passed and not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-300):
                asked = self.tolerance.describe()
                result.note = note or (
                    f"Right, rounded to {asked}: the full value is {expected:.6g}."
                    if asked
                    else f"Right: the exact value is {expected:.6g}."
                )
            elif not math.isfinite(got):
                result.hint = f"Not yet: {answer_name} is {got}, not a finite number."
            elif not result.passed:
                off = abs(got - expected) / abs(expected) if expected else abs(got)
                why = self._why_number(got, off)
                off_words = f"{off:.1%}" if off >= 0.01 else f"{off:.2%}"
                result.hint = f"Not yet: {shown or f'your {got:.6g}'} is off by {off_words}. {why}"
        if verbose:
            print(result)
        return result

    def _why_number(self, got: float, off: float) -> str:
        for hint, wrong in self.mistakes.items():
            if self._matches([np.float64(got)], wrong() if callable(wrong) else wrong, (), ("",)):
                return hint[:1].upper() + hint[1:] if hint[:1].isascii() else hint
        if off < 0.02 and self.tolerance.describe():
            return (
                f"Close: the question asks for {self.tolerance.describe()}; "
                "keep more digits until the last step."
            )
        return self.hint


def _is(names: Sequence[str]) -> str:
    return "is" if len(names) == 1 else "are"


def check_against_reference(
    name: str,
    student_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[tuple],
    wrong_variants: Mapping[str, Callable] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    verbose: bool = True,
) -> CheckResult:
    """Check ``student_fn`` against ``reference_fn`` on ``cases``: a one-off :class:`Exercise`.

    ``wrong_variants`` maps a hint ("eps is inside the square root: ...") to a function that
    makes that mistake; if the student's output matches one, that hint is shown.
    """
    exercise = Exercise(
        name, reference_fn, tuple(cases), dict(wrong_variants or {}), Tolerance(rtol, atol)
    )
    return exercise.check(student_fn, verbose=verbose)
