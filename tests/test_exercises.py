"""Every exercise checker of the course, as a student meets it.

For each exercise: the worked solution passes (as written in its solutions notebook); other
correct forms pass (in place, lists, torch instead of NumPy, rounded to the asked precision);
each known mistake fails with its own hint; a wrong answer that matches no known mistake fails
with the generic hint. The notebooks call the checkers by the names tested here.
"""

import json
import re

import numpy as np
import pytest
import torch

from course_utils import checkers as C
from course_utils import nb01_exercises as ex01
from course_utils import nb02_exercises as ex02
from course_utils import nb03_ema as lab03
from course_utils import nb03_exercises as ex03
from course_utils import nb04_exercises as ex04
from course_utils import nb05_exercises as ex05
from course_utils import nb06_exercises as ex06
from course_utils import nb06_theory as th
from course_utils import nb08_exercises as ex08
from course_utils.optimizers import adagrad_update, adamw_update
from course_utils.paths import REPO_ROOT

# ============================================================ function exercises: correct forms


def adagrad_solution(w, g, G, lr, eps):  # solutions 02, exercise 1
    G_new = G + g * g
    w_new = w - lr * g / (np.sqrt(G_new) + eps)
    return w_new, G_new


def adagrad_slide_18(w, g, G, lr, eps):  # the slide's in-place style
    G += g * g
    w -= lr * g / (np.sqrt(G) + eps)
    return w, G


def adagrad_torch(w, g, G, lr, eps):
    w, g, G = (torch.as_tensor(a) for a in (w, g, G))
    G = G + g * g
    return w - lr * g / (G.sqrt() + eps), G


def adagrad_lists(w, g, G, lr, eps):
    G_new = [G_i + g_i * g_i for G_i, g_i in zip(G, g)]
    return [w_i - lr * g_i / (G_i**0.5 + eps) for w_i, g_i, G_i in zip(w, g, G_new)], G_new


def adagrad_course_library(w, g, G, lr, eps):
    (w_new,), (G_new,) = adagrad_update([w], [g], [G], lr, eps, eps_inside_sqrt=False)
    return w_new, G_new


def ema_solution(g, beta):  # solutions 03, exercise 1
    m = 0.0
    m_hat = np.empty(len(g))
    for t in range(1, len(g) + 1):
        m = beta * m + (1 - beta) * g[t - 1]
        m_hat[t - 1] = m / (1 - beta**t)
    return m_hat


def ema_list(g, beta):
    m, out = 0.0, []
    for t, g_t in enumerate(g, start=1):
        m = beta * m + (1 - beta) * g_t
        out.append(m / (1 - beta**t))
    return out


def ema_vectorised(g, beta):
    return lab03.ema(g, beta) / (1 - beta ** np.arange(1, len(g) + 1))


def ema_torch(g, beta):
    g = torch.as_tensor(g)
    m, out = torch.zeros((), dtype=g.dtype), []
    for t in range(1, len(g) + 1):
        m = beta * m + (1 - beta) * g[t - 1]
        out.append(m / (1 - beta**t))
    return torch.stack(out)


def rmsprop_solution(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):  # solutions 04, exercise 1
    v = beta2 * v + (1 - beta2) * g * g
    w = w - lr * g / (np.sqrt(v) + eps)
    return w, v


def rmsprop_in_place(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    v *= beta2
    v += (1 - beta2) * g * g
    w -= lr * g / (np.sqrt(v) + eps)
    return w, v


def rmsprop_torch_optim(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    p = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.RMSprop([p], lr=lr, alpha=beta2, eps=eps)
    p.grad = torch.tensor(g)
    opt.state[p] = {"step": torch.tensor(0.0), "square_avg": torch.tensor(v).clone()}
    opt.step()
    return p.detach(), opt.state[p]["square_avg"]


def amsgrad_solution(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g  # solutions 04, exercise 2
    v = beta2 * v + (1 - beta2) * g * g
    v_max = np.maximum(v_max, v)
    m_hat = m / (1 - beta1**t)
    v_max_hat = v_max / (1 - beta2**t)
    w = w - lr * m_hat / (np.sqrt(v_max_hat) + eps)
    return w, m, v, v_max


def amsgrad_in_place(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    np.maximum(v_max, v, out=v_max)
    w -= lr * (m / (1 - beta1**t)) / (np.sqrt(v_max / (1 - beta2**t)) + eps)
    return [w, m, v, v_max]


def amsgrad_torch_optim(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    p = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, amsgrad=True)
    p.grad = torch.tensor(g)
    opt.state[p] = {
        "step": torch.tensor(float(t - 1)),
        "exp_avg": torch.tensor(m).clone(),
        "exp_avg_sq": torch.tensor(v).clone(),
        "max_exp_avg_sq": torch.tensor(v_max).clone(),
    }
    opt.step()
    s = opt.state[p]
    return p.detach(), s["exp_avg"], s["exp_avg_sq"], s["max_exp_avg_sq"]


def adamw_solution(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    w = w * (1 - lr * weight_decay)  # solutions 05, exercise 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w, m, v


def adamw_in_place(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    w *= 1 - lr * weight_decay
    m[:] = beta1 * m + (1 - beta1) * g
    v[:] = beta2 * v + (1 - beta2) * g * g
    w -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return w, m, v


def adamw_torch_optim(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                      weight_decay=0.01):
    p = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.AdamW([p], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    p.grad = torch.tensor(g)
    opt.state[p] = {
        "step": torch.tensor(float(t - 1)),
        "exp_avg": torch.tensor(m).clone(),
        "exp_avg_sq": torch.tensor(v).clone(),
    }
    opt.step()
    s = opt.state[p]
    return p.detach(), s["exp_avg"], s["exp_avg_sq"]


def adamw_torch_float32(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    w, g, m, v = (torch.tensor(a, dtype=torch.float32) for a in (w, g, m, v))
    w = w * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps), m, v


def rmsprop_torch_float32(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    w, g, v = (torch.tensor(a, dtype=torch.float32) for a in (w, g, v))
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * g / (v.sqrt() + eps), v


def adamw_course_library(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    (w_new,), (m_new,), (v_new,) = adamw_update(
        [w], [g], [m], [v], lr, beta1, beta2, eps, weight_decay, t
    )
    return w_new, m_new, v_new


def tau_solution(N, beta1):  # solutions 06, exercise 3
    j = np.arange(N)
    w = 1.0 - beta1 ** (N - j)
    return w / w.sum()


def tau_list(N, beta1):
    w = [1 - beta1 ** (N - j) for j in range(N)]
    return [x / sum(w) for x in w]


def tau_torch_float32(N, beta1):
    w = 1 - torch.tensor(beta1, dtype=torch.float32) ** (N - torch.arange(N))
    return w / w.sum()


def wd_solution(lr, lam):  # notebook 08, exercise 1
    return lam / lr


FUNCTION_EXERCISES = {
    "02.1": (
        ex02.check_adagrad_torch_eps,
        ex02.ADAGRAD_MISTAKES,
        [adagrad_solution, adagrad_slide_18, adagrad_torch, adagrad_lists, adagrad_course_library],
        lambda w, g, G, lr, eps: adagrad_solution(w, 2 * g, G, lr, eps),
    ),
    "03.1": (
        ex03.check_ema_bias_correction,
        ex03.EMA_MISTAKES,
        [ema_solution, ema_list, ema_vectorised, ema_torch],
        lambda g, beta: ema_solution(g, beta) * 1.01,
    ),
    "04.1": (
        ex04.check_rmsprop,
        ex04.RMSPROP_MISTAKES,
        [rmsprop_solution, rmsprop_in_place, rmsprop_torch_optim, rmsprop_torch_float32],
        lambda w, g, v, lr, beta2, eps: rmsprop_solution(w, g, v, 2 * lr, beta2, eps),
    ),
    "04.2": (
        ex04.check_amsgrad,
        ex04.AMSGRAD_MISTAKES,
        [amsgrad_solution, amsgrad_in_place, amsgrad_torch_optim],
        lambda w, g, m, v, vm, t, *a: amsgrad_solution(w, g, m, v, vm, t + 1, *a),
    ),
    "05.1": (
        ex05.check_adamw,
        ex05.ADAMW_MISTAKES,
        [adamw_solution, adamw_in_place, adamw_torch_optim, adamw_course_library,
         adamw_torch_float32],
        lambda w, g, m, v, t, lr, b1, b2, eps, wd: adamw_solution(w, g, m, v, t, lr, b1, b2, eps,
                                                                  2 * wd),
    ),
    "06.3": (
        ex06.check_tau_weights,
        ex06.TAU_MISTAKES,
        [tau_solution, tau_list, tau_torch_float32],
        lambda N, beta1: np.full(N, 1.0 / N),
    ),
    "08.1": (
        ex08.check_torch_weight_decay,
        ex08.WEIGHT_DECAY_MISTAKES,
        [wd_solution, lambda lr, lam: torch.tensor(lam) / lr, lambda lr, lam: [lam * (1 / lr)]],
        lambda lr, lam: lam / lr**2,
    ),
}


def _function_params(kind: str):
    params = []
    for name, (check, mistakes, correct, unknown) in FUNCTION_EXERCISES.items():
        if kind == "correct":
            params += [pytest.param(check, fn, id=f"{name}-{fn.__name__}") for fn in correct]
        elif kind == "mistake":
            params += [
                pytest.param(check, hint, fn, id=f"{name}-{k}")
                for k, (hint, fn) in enumerate(mistakes.items())
            ]
        else:
            params.append(pytest.param(check, unknown, id=name))
    return params


@pytest.mark.parametrize("check,answer", _function_params("correct"))
def test_each_correct_form_passes(check, answer, capsys):
    result = check(answer)
    out = capsys.readouterr().out
    assert result.passed, out
    assert "| allclose: True |" in out and "Likely mistake" not in out


@pytest.mark.parametrize("check,hint,mistake", _function_params("mistake"))
def test_each_known_mistake_fails_with_its_own_hint(check, hint, mistake, capsys):
    result = check(mistake)
    assert not result.passed
    assert result.hint == "Likely mistake: " + hint
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("check,answer", _function_params("unknown"))
def test_an_unknown_mistake_gets_the_generic_hint(check, answer, capsys):
    result = check(answer)
    assert not result.passed and result.hint.endswith(C.GENERIC_HINT)
    assert "Likely mistake" not in capsys.readouterr().out


@pytest.mark.parametrize("name", list(FUNCTION_EXERCISES))
def test_the_stub_of_each_exercise_gets_one_line(name, capsys):
    def stub(*args):
        raise NotImplementedError("write the function, then run this cell again")

    result = FUNCTION_EXERCISES[name][0](stub)
    assert not result.passed
    assert result.hint == (
        "Your function raised NotImplementedError: write the function, then run this cell again"
    )
    out = capsys.readouterr().out
    assert "maxdiff: inf" in out and "Traceback" not in out


# ============================================================ numeric exercises


@pytest.fixture(scope="module")
def consts06():
    # Notebook 06's logistic problem (n = 400, d = 10, scale_min = 0.3, label_noise = 0.2,
    # seed 0), as its c8 prints them: alpha* = 0.10929 at N = 1e4, 1 - beta2* = 2.63e-3.
    return dict(d=10, R=0.9991027045140537, L=0.08010142538024378, eps=1e-8,
                f0_minus_fstar=0.1321793977170157)


def _numeric(name, consts):
    """(checker of one answer, its exercise record, correct answers, an unknown wrong answer)."""
    if name == "01.1":
        return ex01.check_best_step, ex01.best_step_exercise(), [2 / 1.02, 1.96, 1.961], 1.5
    if name == "01.2":
        return ex01.check_best_rate, ex01.best_rate_exercise(), [49 / 51, 0.96, 0.9608], 0.9
    if name == "02.2":
        return ex02.check_stall_steps, ex02.stall_exercise(), [10147, 10_000, np.int64(10147)], 5e3
    if name == "03.2":
        return ex03.check_warmup_steps, ex03.warmup_exercise(), [2302, 2302.0, np.int64(2302)], 10
    if name == "05.2":
        return (ex05.check_torch_weight_decay, ex05.torch_weight_decay_exercise(),
                [0.05 / 3e-4, 166.7, 167, torch.tensor(166.67)], 7.0)
    if name == "06.1":
        best = th.best_adagrad_alpha(N=10_000, **consts)

        def check(answer):
            return ex06.check_best_adagrad_alpha(answer, N=10_000, **consts)

        exercise = ex06.best_adagrad_alpha_exercise(N=10_000, **consts)
        return check, exercise, [best, 0.109, 0.11, np.float64(0.1093)], 0.1
    raise KeyError(name)


NUMERIC = ["01.1", "01.2", "02.2", "03.2", "05.2", "06.1"]  # 01.3, 06.2: own tests below


@pytest.mark.parametrize("name", NUMERIC)
def test_each_numeric_answer_passes_in_every_asked_form(name, consts06, capsys):
    check, _, correct, _ = _numeric(name, consts06)
    for answer in correct:
        assert check(answer).passed, answer
    assert "Likely mistake" not in capsys.readouterr().out


@pytest.mark.parametrize("name", NUMERIC)
def test_each_numeric_mistake_fails_with_its_own_hint(name, consts06, capsys):
    check, exercise, _, unknown = _numeric(name, consts06)
    assert exercise.mistakes, "every numeric exercise names at least one mistake"
    for hint, value in exercise.mistakes.items():
        result = check(value)
        assert not result.passed, hint
        assert result.hint.startswith("Not yet: ") and result.hint.endswith(hint[1:]), hint
    result = check(unknown)
    assert not result.passed and result.hint.endswith(exercise.hint)
    capsys.readouterr()


@pytest.mark.parametrize(
    "check,placeholder",
    [(ex01.check_best_step, None), (ex02.check_stall_steps, "200"),
     (ex05.check_torch_weight_decay, None), (ex03.check_warmup_steps, [1, 2])],
)
def test_a_missing_number_is_asked_for(check, placeholder, capsys):
    result = check(placeholder)
    assert not result.passed and ("Assign a number" in result.hint or "one number" in result.hint)
    assert "Traceback" not in capsys.readouterr().out


def test_rounded_answers_say_that_they_are_rounded(capsys):
    assert ex05.check_torch_weight_decay(166.7).passed  # issue 15: it was rejected at rtol 1e-6
    assert ex01.check_best_step(1.96).passed and ex01.check_best_rate(0.96).passed
    out = capsys.readouterr().out
    assert "Right, rounded to 3 significant figures: the full value is 166.667." in out
    assert "Right (rounded); the exact value is 2/(h_max + h_min) = 1.9608." in out
    assert "Right (rounded); the exact value is (kappa - 1)/(kappa + 1) = 0.96078." in out
    assert not ex05.check_torch_weight_decay(166, verbose=False).passed  # 3 s.f. is 167


def test_01_a_near_miss_is_told_the_asked_precision(capsys):
    result = ex01.check_best_rate(0.955)
    assert not result.passed and "the question asks for 3 significant figures" in result.hint
    capsys.readouterr()


# ============================================================ 01 exercise 3: steps at the limit


def test_01_3_the_fast_count_agrees_with_gradient_descent():
    from course_utils.quadratic import gradient_descent

    for alpha in (1.0, 1.5, 1.75, 1.818, 1.9, 1.99):
        losses = gradient_descent(ex01.LIMIT_PROBLEM, ex01.LIMIT_W0, alpha, 1000).losses
        assert ex01.steps_to_loss(alpha)[0] == np.flatnonzero(losses < 1e-8)[0], alpha


@pytest.mark.parametrize("alpha", [1.7, 1.75, 1.76, 1.8, 1.818, 1.82, np.float64(1.75)])
def test_01_3_alphas_near_the_fewest_steps_pass(alpha, capsys):
    assert ex01.check_limit_best_alpha(alpha).passed
    assert "Right: α = " in capsys.readouterr().out


@pytest.mark.parametrize(
    "alpha,words",
    [
        (2.0, "never reaches L < 1e-8. At 2/h_max the steep factor"),
        (1.99, "At 2/h_max the steep factor |1 - alpha h_max| reaches 1"),
        (1.9, "Past alpha* = 2/(h_max + h_min) = 1.818"),
        (1.0, "1/h_max zeroes the steep direction in one step"),
        (1.3, "Count again"),
        (None, "Assign a number to my_alpha"),
    ],
)
def test_01_3_wrong_alphas_are_explained(alpha, words, capsys):
    result = ex01.check_limit_best_alpha(alpha)
    assert not result.passed and words in result.hint
    capsys.readouterr()


def test_02_2_and_03_2_hints_name_the_formula(capsys):
    assert "Σ 1/√t ≈ 2√T" in ex02.check_stall_steps(5000).hint
    assert "SGD's count" in ex02.check_stall_steps(200).hint
    assert "round up" in ex03.check_warmup_steps(2301).hint
    assert "off by one" in ex03.check_warmup_steps(2303).hint.lower()
    assert "memory" in ex03.check_warmup_steps(1000).hint
    capsys.readouterr()


def test_warmup_steps_matches_brute_force():
    for beta, fraction in [(0.999, 0.9), (0.9, 0.5), (0.99, 0.99), (0.0, 0.9)]:
        t = 1
        while 1 - beta**t < fraction:
            t += 1
        assert ex03.warmup_steps(beta, fraction) == t


# ============================================================ 06 exercise 2: the bound's value


def _grid_beta2(consts, points):
    u = np.geomspace(1e-9, 0.5, points)
    totals = th.adam_bound(10_000, alpha=1e-3, beta2=1 - u, **consts).total
    return 1 - u[np.argmin(totals)]


@pytest.mark.parametrize("points", [100, 400, 2001])
def test_06_2_any_log_grid_passes(points, consts06, capsys):
    # Issue 15: the old checker compared the argmin to 2 % on a flat bound: a 100-point grid
    # passed and a finer 400-point grid failed. Now the bound's value decides.
    beta2 = _grid_beta2(consts06, points)
    result = ex06.check_best_adam_beta2(beta2, N=10_000, alpha=1e-3, **consts06)
    assert result.passed
    assert "Right: the bound at your β₂ is within" in capsys.readouterr().out


def test_06_2_passes_exactly_when_the_bound_is_within_the_tolerance(consts06, capsys):
    args = dict(N=10_000, alpha=1e-3, **consts06)
    best = th.best_adam_beta2(**args)
    minimum = float(th.adam_bound(beta2=best, **args).total)
    rtol = ex06.BOUND_RTOL
    assert rtol == 1e-3
    for u in (1 - best) * np.geomspace(0.5, 2.0, 41):
        bound = float(th.adam_bound(beta2=1 - u, **args).total)
        if abs(bound / minimum - 1 - rtol) > 1e-6:
            passed = ex06.check_best_adam_beta2(1 - u, **args).passed
            assert passed == (bound <= minimum * (1 + rtol)), u
    for factor in (0.9, 1.1):  # 1 - beta2 off by 10 % is outside
        assert not ex06.check_best_adam_beta2(1 - factor * (1 - best), **args).passed
    capsys.readouterr()


@pytest.mark.parametrize(
    "beta2,words",
    [
        (0.999, "torch's default"),
        (0.9999, "1 − β₂ = 1/N"),
        (0.00263, "looks like 1 − β₂"),
        (0.99, "log-spaced grid"),
        (1.0, "must be a number in (0, 1)"),
        (None, "must be a number in (0, 1)"),
    ],
)
def test_06_2_wrong_answers_are_explained(beta2, words, consts06, capsys):
    result = ex06.check_best_adam_beta2(beta2, N=10_000, alpha=1e-3, **consts06)
    assert not result.passed and words in result.hint
    assert "0.997" not in result.hint  # the answer is not given away
    capsys.readouterr()


# ============================================================ 06 exercise 3: the hint's direction


def test_02_1_swapped_outputs_are_named(capsys):
    # Review 00-03, 02 c36: (G_new, w_new) got only the generic hint.
    result = ex02.check_adagrad_torch_eps(lambda *a: adagrad_solution(*a)[::-1])
    assert "you return (G_new, w_new); the exercise asks for (w_new, G_new)" in result.hint
    amsgrad = ex04.check_amsgrad(lambda *a: [amsgrad_solution(*a)[i] for i in (0, 2, 1, 3)])
    assert "you return (w, v, m, v_max); the exercise asks for (w, m, v, v_max)" in amsgrad.hint
    capsys.readouterr()


def test_06_3_the_exponent_hint_points_the_right_way():
    # The paper's weights 1 - beta1^(N - j) fall towards the last iterate; the hint must say so.
    p = th.tau_weights(20, 0.9)
    assert np.all(np.diff(p) < 0)
    hint = next(h for h in ex06.TAU_MISTAKES if h.startswith("the exponent"))
    assert "the last iterates get the least weight" in hint
    wrong = ex06.TAU_MISTAKES[hint](20, 0.9)
    assert np.all(np.diff(wrong) > 0)  # the mistake it names puts the weight the other way


# ============================================================ the notebooks call these checkers


CHECK_CALL = re.compile(r"\bex\.(check_\w+)\(")
EXERCISE_IMPORT = re.compile(r"from course_utils import (nb\d\d_exercises) as ex\b")


def _notebook_checker_calls():
    calls = []
    for path in sorted((REPO_ROOT / "notebooks").glob("**/[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        module = EXERCISE_IMPORT.search(code)
        for name in CHECK_CALL.findall(code):
            calls.append(pytest.param(path.name, module and module.group(1), name,
                                      id=f"{path.stem}-{name}"))
    return calls


@pytest.mark.parametrize("notebook,module,name", _notebook_checker_calls())
def test_every_checker_a_notebook_calls_exists(notebook, module, name):
    import importlib

    assert module, f"{notebook} calls ex.{name} without importing an nbNN_exercises module as ex"
    assert callable(getattr(importlib.import_module(f"course_utils.{module}"), name, None))
