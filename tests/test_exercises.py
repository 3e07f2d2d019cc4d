"""Exercise checkers of every notebook: correct answers pass, known mistakes get their hint."""

import numpy as np
import pytest
import torch

from course_utils import nb01_exercises as ex01
from course_utils import nb02_exercises as ex02
from course_utils import nb03_ema as lab03
from course_utils import nb03_exercises as ex03
from course_utils import nb04_exercises as ex04
from course_utils import nb05_exercises as ex05
from course_utils import nb06_exercises as ex06
from course_utils import nb06_theory as th

# ---- notebook 01 ----


def test_best_step_checker(capsys):
    assert ex01.check_best_step(2 / 1.02).passed
    wrong = ex01.check_best_step(1.0)
    assert not wrong.passed and "1/h_max" in wrong.hint
    assert "stability limit" in ex01.check_best_step(2.0).hint
    assert "best fixed step | exact:" in capsys.readouterr().out


def test_best_rate_checker():
    assert ex01.check_best_rate(49 / 51).passed
    wrong = ex01.check_best_rate(1 - 1 / 50)
    assert not wrong.passed and "alpha = 1/h_max" in wrong.hint


# ---- notebook 02 ----


def _correct(w, g, G, lr, eps):
    G_new = G + g * g
    return w - lr * g / (np.sqrt(G_new) + eps), G_new



def test_adagrad_checker_accepts_a_correct_answer(capsys):
    result = ex02.check_adagrad_torch_eps(_correct)
    assert result.passed and result.exact
    assert "adagrad_step_torch_eps | exact: True | allclose: True" in capsys.readouterr().out


def test_adagrad_checker_accepts_torch_tensors_converted_back():
    def via_torch(w, g, G, lr, eps):
        w_t, g_t, G_t = (torch.tensor(a) for a in (w, g, G))
        G_t = G_t + g_t * g_t
        return (w_t - lr * g_t / (G_t.sqrt() + eps)).numpy(), G_t.numpy()

    assert ex02.check_adagrad_torch_eps(via_torch, verbose=False).passed


@pytest.mark.parametrize("hint", list(ex02.ADAGRAD_WRONG_VARIANTS))
def test_adagrad_checker_names_each_typical_mistake(hint):
    result = ex02.check_adagrad_torch_eps(ex02.ADAGRAD_WRONG_VARIANTS[hint], verbose=False)
    assert not result.passed
    assert result.hint == "Likely mistake: " + hint


def test_adagrad_checker_on_the_stub_prints_a_hint(capsys):
    def stub(w, g, G, lr, eps):
        raise NotImplementedError("write the two lines")

    result = ex02.check_adagrad_torch_eps(stub)
    assert not result.passed and "NotImplementedError" in result.hint
    assert "NotImplementedError: write the two lines" in capsys.readouterr().out


def test_stall_checker():
    assert ex02.check_stall_steps(10147).passed
    assert ex02.check_stall_steps(10_000).passed  # the (D / 2 alpha)^2 estimate is within 3 %
    wrong = ex02.check_stall_steps(200)  # SGD's count D / alpha
    assert not wrong.passed and "α/√t" in wrong.hint


# ---- notebook 03 ----


def test_warmup_steps_matches_brute_force():
    for beta, fraction in [(0.999, 0.9), (0.9, 0.5), (0.99, 0.99), (0.0, 0.9)]:
        t = 1
        while 1 - beta**t < fraction:
            t += 1
        assert ex03.warmup_steps(beta, fraction) == t


def test_ema_checker_accepts_a_correct_answer(capsys):
    def correct(g, beta):
        m = lab03.ema(g, beta)
        return m / (1 - beta ** np.arange(1, len(g) + 1))

    result = ex03.check_ema_bias_correction(correct)
    assert result.passed
    assert "ema_bias_corrected | exact:" in capsys.readouterr().out


@pytest.mark.parametrize("hint", list(ex03.EMA_WRONG_VARIANTS))
def test_ema_checker_names_each_typical_mistake(hint):
    result = ex03.check_ema_bias_correction(ex03.EMA_WRONG_VARIANTS[hint], verbose=False)
    assert not result.passed
    assert result.hint == "Likely mistake: " + hint


def test_ema_checker_on_the_stub_prints_a_hint(capsys):
    def stub(g, beta):
        raise NotImplementedError("write ema_bias_corrected")

    result = ex03.check_ema_bias_correction(stub)
    assert not result.passed and "NotImplementedError" in result.hint
    assert "NotImplementedError: write ema_bias_corrected" in capsys.readouterr().out


def test_ema_checker_rejects_a_wrong_length():
    result = ex03.check_ema_bias_correction(lambda g, beta: np.zeros(3), verbose=False)
    assert not result.passed and result.maxdiff == float("inf")


def test_warmup_checker():
    assert ex03.check_warmup_steps(2302).passed
    wrong = ex03.check_warmup_steps(1000)  # 1/(1 - beta2), the memory, not the answer
    assert not wrong.passed and "ln(0.1)" in wrong.hint


# ---- notebook 04 ----


def _amsgrad_torch(w, g, m, v, v_max, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """AMSGrad through torch.optim.Adam(amsgrad=True), one step from the given state."""
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
    return (
        p.detach().numpy(),
        s["exp_avg"].numpy(),
        s["exp_avg_sq"].numpy(),
        s["max_exp_avg_sq"].numpy(),
    )



def _rmsprop_torch(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
    """RMSProp through torch.optim.RMSprop (one step from the given state)."""
    p = torch.nn.Parameter(torch.tensor(w))
    opt = torch.optim.RMSprop([p], lr=lr, alpha=beta2, eps=eps)
    p.grad = torch.tensor(g)
    opt.state[p] = {"step": torch.tensor(0.0), "square_avg": torch.tensor(v).clone()}
    opt.step()
    return p.detach().numpy(), opt.state[p]["square_avg"].numpy()



def test_references_agree_with_torch():
    assert ex04.check_rmsprop(_rmsprop_torch, verbose=False).passed
    assert ex04.check_amsgrad(_amsgrad_torch, verbose=False).passed


@pytest.mark.parametrize(
    "check,reference",
    [(ex04.check_rmsprop, ex04.rmsprop_reference), (ex04.check_amsgrad, ex04.amsgrad_reference)],
)
def test_checker_accepts_correct_answer(check, reference, capsys):
    result = check(reference)
    assert result.passed
    out = capsys.readouterr().out
    assert "| allclose: True" in out and "Likely mistake" not in out


def test_checker_accepts_in_place_answer():
    def rmsprop_in_place(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
        v *= beta2
        v += (1 - beta2) * g * g
        w -= lr * g / (np.sqrt(v) + eps)
        return w, v

    assert ex04.check_rmsprop(rmsprop_in_place, verbose=False).passed


@pytest.mark.parametrize(
    "check,mistakes",
    [(ex04.check_rmsprop, ex04.RMSPROP_MISTAKES), (ex04.check_amsgrad, ex04.AMSGRAD_MISTAKES)],
)
def test_checker_names_each_typical_mistake(check, mistakes, capsys):
    for hint, wrong in mistakes.items():
        result = check(wrong)
        assert not result.passed, hint
        assert result.hint == "Likely mistake: " + hint
        out = capsys.readouterr().out
        assert "| allclose: False" in out and hint[:30] in out


def test_checker_catches_stub_with_a_hint(capsys):
    def stub(*args):
        raise NotImplementedError("Exercise 1: write the RMSProp step")

    result = ex04.check_rmsprop(stub)
    assert not result.passed
    out = capsys.readouterr().out
    assert "NotImplementedError" in out and "maxdiff: inf" in out


def test_checker_unknown_mistake_gets_generic_hint():
    def sign_error(w, g, v, lr=0.01, beta2=0.99, eps=1e-8):
        w_new, v_new = ex04.rmsprop_reference(w, g, v, lr, beta2, eps)
        return 2 * w - w_new, v_new

    result = ex04.check_rmsprop(sign_error, verbose=False)
    assert not result.passed and result.hint == ""
    assert "Compare your formula" in str(result)


# ---- notebook 05 ----


def _adamw_torch(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    """One torch.optim.AdamW step from the given state (fp64)."""
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
    return p.detach().numpy(), s["exp_avg"].numpy(), s["exp_avg_sq"].numpy()



def test_adamw_reference_agrees_with_torch_and_course():
    from course_utils.optimizers import adamw_update

    assert ex05.check_adamw(_adamw_torch, verbose=False).passed

    def via_course(w, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
        (w_new,), (m_new,), (v_new,) = adamw_update(
            [w], [g], [m], [v], lr, beta1, beta2, eps, weight_decay, t
        )
        return w_new, m_new, v_new

    assert ex05.check_adamw(via_course, verbose=False).passed


def test_adamw_checker_accepts_correct_answer(capsys):
    assert ex05.check_adamw(ex05.adamw_reference).passed
    out = capsys.readouterr().out
    assert "adamw_step | exact: True | allclose: True" in out


def test_adamw_checker_names_each_typical_mistake(capsys):
    for hint, wrong in ex05.ADAMW_MISTAKES.items():
        result = ex05.check_adamw(wrong)
        assert not result.passed, hint
        assert result.hint == "Likely mistake: " + hint
        assert hint[:30] in capsys.readouterr().out


def test_adamw_checker_catches_stub(capsys):
    def stub(*args):
        raise NotImplementedError("Exercise 1: write the AdamW step")

    assert not ex05.check_adamw(stub).passed
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value,passed,hint",
    [
        (0.05 / 3e-4, True, ""),
        (0.05, False, "paper's lambda unchanged"),
        (0.05 * 3e-4, False, "multiplied by lr"),
        (7.0, False, "solve for weight_decay"),
        (None, False, "Assign a number"),
    ],
)
def test_weight_decay_conversion_checker(value, passed, hint, capsys):
    result = ex05.check_torch_weight_decay(value, lambda_paper=0.05, lr=3e-4)
    assert result.passed is passed
    assert hint in result.hint
    assert "torch weight_decay |" in capsys.readouterr().out


# ---- notebook 06 ----


def test_checkers_accept_right_and_explain_wrong(capsys):
    args = dict(N=1e4, d=10, R=1.0, L=0.08, eps=1e-8, f0_minus_fstar=0.13)
    assert ex06.check_best_adagrad_alpha(th.best_adagrad_alpha(**args), **args).passed
    assert not ex06.check_best_adagrad_alpha(1.0, **args).passed
    b2 = th.best_adam_beta2(alpha=1e-3, **args)
    assert ex06.check_best_adam_beta2(b2, alpha=1e-3, **args).passed
    assert not ex06.check_best_adam_beta2(0.999, alpha=1e-3, **args).passed
    assert ex06.check_tau_weights(th.tau_weights).passed

    def wrong(N, beta1):
        return 1.0 - beta1 ** (N - np.arange(N))

    result = ex06.check_tau_weights(wrong)
    assert not result.passed and "sum to 1" in result.hint
    out = capsys.readouterr().out
    assert "best α (Adagrad) | exact:" in out and "tau_weights | exact:" in out
