"""The exercise record of course_utils.checkers: copies, coercion, words for every failure."""

import signal
import threading
import time

import numpy as np
import pytest
import torch

from course_utils import checkers as C


def _pair_reference(w, g):
    return w - 0.1 * g, g * g


PAIR = C.Exercise(
    "pair",
    _pair_reference,
    lambda: [(np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.0, -2.0]))],
    {"the step has the wrong sign: w - 0.1 g.": lambda w, g: (w + 0.1 * g, g * g)},
    C.Tolerance(rtol=1e-9, atol=1e-12),
    outputs=("w_new", "G_new"),
    time_limit_s=0.3,
)


def _check(fn):
    return PAIR.check(fn, verbose=False)


# ---------------------------------------------------------------- tolerance


@pytest.mark.parametrize(
    "tol,expected,accepted,rejected",
    [
        (C.Tolerance(rtol=0, atol=0, sig_figs=3), 166.6667, [166.7, 167.0, 166.67], [166.0, 168.0]),
        (C.Tolerance(rtol=0, atol=0, sig_figs=3), 0.10929, [0.109, 0.1093], [0.11, 0.108]),
        (C.Tolerance(rtol=0, atol=0, decimals=2), 0.960784, [0.96, 0.961, 0.9608], [0.95, 0.97]),
        (C.Tolerance(rtol=0, atol=0, decimals=2), 1.960784, [1.96, 1.961], [1.97, 1.95, 2.0]),
        (C.Tolerance(rtol=0.03, atol=0), 10147.0, [10000.0, 10400.0], [9800.0, 10500.0]),
    ],
)
def test_tolerance_accepts_the_asked_precision(tol, expected, accepted, rejected):
    bound = float(tol.bound(expected))
    assert all(abs(a - expected) <= bound for a in accepted)
    assert all(abs(r - expected) > bound for r in rejected)


def test_tolerance_describes_the_asked_precision():
    assert C.Tolerance(sig_figs=3).describe() == "3 significant figures"
    assert C.Tolerance(decimals=2).describe() == "2 decimal places"
    assert C.Tolerance().describe() == ""


# ---------------------------------------------------------------- correct forms, copies


def _in_place(w, g):
    w -= 0.1 * g
    g *= g
    return w, g


@pytest.mark.parametrize(
    "form",
    [
        _pair_reference,
        _in_place,
        lambda w, g: [list(w - 0.1 * g), list(g * g)],  # lists
        lambda w, g: (torch.tensor(w) - 0.1 * torch.tensor(g), torch.tensor(g) ** 2),  # tensors
        lambda w, g: [[float(x) for x in w - 0.1 * g], tuple(np.float64(x) for x in g * g)],
    ],
    ids=["arrays", "in place", "lists", "tensors", "python and numpy scalars"],
)
def test_every_correct_form_passes(form):
    result = _check(form)
    assert result.passed and result.hint == ""


def test_the_reference_and_mistakes_get_fresh_copies_after_an_in_place_answer():
    seen = []

    def reference(x):
        seen.append(x[0].copy())
        return np.asarray(x[0]) * 2.0

    exercise = C.Exercise("copies", reference, [([np.array([1.0, 2.0])],)], outputs=("y",))

    def student(x):  # in place, through a nested list
        x[0] *= 2.0
        return x[0]

    assert exercise.check(student, verbose=False).passed
    assert exercise.check(student, verbose=False).passed  # the case itself is untouched
    np.testing.assert_array_equal(seen, [[1.0, 2.0], [1.0, 2.0]])


def test_tensor_arguments_are_copied_too():
    case = (torch.tensor([1.0, 2.0]),)
    exercise = C.Exercise("tensor", lambda x: x * 3, [case], outputs=("y",))

    def student(x):
        x.mul_(3)
        return x

    assert exercise.check(student, verbose=False).passed
    assert torch.equal(case[0], torch.tensor([1.0, 2.0]))


# ---------------------------------------------------------------- failures, in words


def _one_line_hint(result):
    assert not result.passed
    assert "\n" not in result.hint and "Traceback" not in result.hint
    return result.hint


def test_a_known_mistake_gets_its_hint():
    hint = _one_line_hint(_check(lambda w, g: (w + 0.1 * g, g * g)))
    assert hint == "Likely mistake: the step has the wrong sign: w - 0.1 g."


def test_an_unknown_mistake_gets_the_generic_hint_and_what_is_right():
    hint = _one_line_hint(_check(lambda w, g: (w - 0.2 * g, g * g)))
    assert hint == f"Your G_new is right, your w_new not. {C.GENERIC_HINT}"
    hint = _one_line_hint(_check(lambda w, g: (w - 0.2 * g, g)))
    assert hint == C.GENERIC_HINT


def test_values_in_the_wrong_order_are_named():
    hint = _one_line_hint(_check(lambda w, g: _pair_reference(w, g)[::-1]))
    assert hint == (
        "Likely mistake: the values are returned in the wrong order: you return "
        "(G_new, w_new); the exercise asks for (w_new, G_new)."
    )


@pytest.mark.parametrize(
    "answer,words",
    [
        (lambda w, g: None, "returned None: end it with `return w_new, G_new`"),
        (lambda w, g: w - 0.1 * g, "returned 1 value; it should return 2: (w_new, G_new)"),
        (lambda w, g: (w, g, g), "returned 3 values; it should return 2"),
        (lambda w, g: ((w - 0.1 * g)[:, None], g * g), "w_new has shape (3, 1); it should have "
         "shape (3,) (the same values in another shape?)"),
        (lambda w, g: (w[:2], g * g), "w_new has shape (2,); it should have shape (3,)."),
        (lambda w, g: ("w", g * g), "w_new is not an array of numbers (got str)"),
        (lambda w, g: (w / 0.0 * 0.0, g * g), "w_new contains NaN (3 of 3 values)"),
        (lambda w, g: (w / 0.0, g * g), "w_new contains inf"),
    ],
)
def test_each_malformed_answer_is_named_in_words(answer, words):
    assert words in _one_line_hint(_check(answer))


def test_an_exception_is_one_line_and_printed_without_a_traceback(capsys):
    def stub(w, g):
        raise NotImplementedError("write the step\nsecond line")

    result = PAIR.check(stub)
    assert _one_line_hint(result) == "Your function raised NotImplementedError: write the step"
    out = capsys.readouterr().out
    assert "maxdiff: inf" in out and "Traceback" not in out and "second line" not in out


def test_an_endless_loop_is_stopped_and_named():
    def endless(w, g):
        while True:
            try:
                pass
            except Exception:  # a student's bare except cannot swallow the time limit
                pass

    start = time.monotonic()
    hint = _one_line_hint(_check(endless))
    assert time.monotonic() - start < 3
    assert "did not finish within 0.3 s (case 1 of 1)" in hint and "loop" in hint


def test_an_earlier_alarm_is_given_back_after_the_check():
    fired = []

    def handler(*_):
        fired.append(True)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        assert _check(_pair_reference).passed
        assert signal.getsignal(signal.SIGALRM) is handler
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 1.0
        time.sleep(1.2)
        assert fired == [True]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_outside_the_main_thread_the_time_limit_still_holds():
    results = {}

    def endless(w, g):
        while not results.get("stop"):
            time.sleep(0.01)

    def run():
        results["slow"] = _check(endless)
        results["ok"] = _check(_in_place)
        results["stop"] = True

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(5)
    assert "did not finish" in results["slow"].hint
    assert results["ok"].passed


def test_runtime_warnings_of_a_student_are_not_raised_or_shown(recwarn):
    # pytest turns RuntimeWarning into errors; the student's 0/0 must still be a NaN message.
    hint = _one_line_hint(_check(lambda w, g: (np.sqrt(-w) + w - w, g * g)))
    assert "NaN" in hint
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# ---------------------------------------------------------------- numbers


NUMBER = C.Exercise(
    "a number",
    lambda: 2 / 1.02,
    mistakes={"1/h_max zeroes one direction.": 1.0},
    tolerance=C.Tolerance(rtol=0, atol=0, decimals=2),
    hint="Balance both factors.",
)


@pytest.mark.parametrize(
    "answer", [2 / 1.02, 1.96, np.float64(1.96), torch.tensor(1.96), np.array([1.96]), [1.961]]
)
def test_a_number_passes_in_any_numeric_type_at_the_asked_precision(answer, capsys):
    assert NUMBER.check_answer(answer).passed
    out = capsys.readouterr().out
    assert "allclose: True" in out
    if not np.isclose(float(np.ravel(answer)[0]), 2 / 1.02, rtol=1e-12):
        assert "Right, rounded to 2 decimal places: the full value is 1.96078." in out


@pytest.mark.parametrize(
    "answer,words",
    [
        (1.0, "Not yet: your 1 is off by 49.0%. 1/h_max zeroes one direction."),
        (1.5, "Not yet: your 1.5 is off by 23.5%. Balance both factors."),
        (1.97, "off by 0.47%. Close: the question asks for 2 decimal places"),
        (None, "Assign a number to my_step, then run the cell again."),
        ("1.96", "Assign a number to my_step"),
        (np.ones(2), "my_step should be one number; it has shape (2,)."),
        (float("nan"), "Not yet: my_step is nan, not a finite number."),
        (float("inf"), "Not yet: my_step is inf, not a finite number."),
    ],
)
def test_a_wrong_number_is_named_in_words(answer, words):
    result = NUMBER.check_answer(answer, verbose=False, answer_name="my_step")
    assert words in _one_line_hint(result)


# ---------------------------------------------------------------- the older entry points


def test_check_against_reference_is_a_one_off_exercise(capsys):
    result = C.check_against_reference(
        "double", lambda x: 2 * x, lambda x: 2.0 * x, [(np.arange(3.0),)],
        wrong_variants={"you added instead of multiplying.": lambda x: x + 2},
    )
    assert result.passed and "double | exact: True | allclose: True | maxdiff: 0" in str(result)
    wrong = C.check_against_reference(
        "double", lambda x: x + 2, lambda x: 2.0 * x, [(np.arange(3.0),)],
        wrong_variants={"you added instead of multiplying.": lambda x: x + 2}, verbose=False,
    )
    assert wrong.hint == "Likely mistake: you added instead of multiplying."
    assert "double |" in capsys.readouterr().out


def test_compare_and_max_difference():
    assert C.compare("x", (np.ones(2), torch.ones(3)), [np.ones(2), np.ones(3)]).exact
    assert C.max_difference(np.ones(2), np.ones(3)) == float("inf")
    assert not C.compare("x", np.ones(2), np.ones(3)).passed
    assert C.compare("x", 1.0 + 1e-7, 1.0).passed and not C.compare("x", 1.1, 1.0).passed
