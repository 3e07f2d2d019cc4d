"""Notebook 10's new optimizers in ``course_utils.optimizers``: sign descent, Newton-Schulz, Muon, Shampoo.

Checked against torch where torch has them (torch.optim.Muon), against their defining identities
(Adam with beta1 = beta2 = 0 is signSGD; Shampoo without accumulation is U V^T; the polar factor
commutes with orthogonal maps) and in both list-function and torch.optim form.
"""

import numpy as np
import pytest
import torch

from course_utils.nb10_muon import muon_update_torch_order
from course_utils.optimizers import (
    MUON_COEFFICIENTS,
    CourseMuon,
    CourseSignDescent,
    adam_update,
    muon_update,
    newton_schulz,
    shampoo_update,
    sign_descent_update,
)


def _orthogonal(n, rng):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q


# ------------------------------------------------------------------------------ sign descent


@pytest.mark.parametrize("seed", range(5))
def test_adam_without_memory_is_sign_descent(seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(500) * 10.0 ** rng.uniform(-20, 20, 500)
    w = rng.standard_normal(500)
    (a,), _, _ = adam_update([w.copy()], [g], [], [], lr=0.3, beta1=0.0, beta2=0.0, eps=0.0)
    (s,), _ = sign_descent_update([w.copy()], [g], [], lr=0.3)
    assert np.max(np.abs(a - s)) < 1e-15


def test_signum_is_the_sign_of_the_momentum_ema_with_decoupled_decay():
    rng = np.random.default_rng(0)
    w, m = rng.standard_normal(8), rng.standard_normal(8)
    grads = [rng.standard_normal(8) for _ in range(5)]
    params, state = [w.copy()], [m.copy()]
    for g in grads:
        w = w * (1 - 0.1 * 0.01)
        m = 0.9 * m + 0.1 * g
        w = w - 0.1 * np.sign(m)
        params, state = sign_descent_update(params, [g], state, lr=0.1, beta1=0.9, weight_decay=0.01)
    assert np.allclose(params[0], w) and np.allclose(state[0], m)


def test_sign_descent_runs_on_tensors_and_rejects_bad_settings():
    (w,), _ = sign_descent_update([torch.zeros(3)], [torch.tensor([2.0, -1e-9, 0.0])], [], lr=0.5)
    assert torch.equal(w, torch.tensor([-0.5, 0.5, 0.0]))
    with pytest.raises(ValueError, match="beta1"):
        sign_descent_update([np.zeros(2)], [np.ones(2)], [], beta1=1.0)
    with pytest.raises(ValueError, match="gradients"):
        sign_descent_update([np.zeros(2)], [], [])


def test_variance_factor_is_at_most_one_only_when_beta1_equals_beta2():
    """|m_hat| <= sqrt(v_hat) with equal EMA weights (Cauchy-Schwarz); beta1 < beta2 can exceed 1."""
    rng = np.random.default_rng(3)
    g_seq = rng.standard_normal((300, 1000)) * rng.uniform(0, 3, 1000) + rng.uniform(-1, 1, 1000)
    g_seq[150] *= 100  # a sudden large gradient
    worst = {}
    for beta1, beta2 in ((0.9, 0.9), (0.99, 0.99), (0.9, 0.999)):
        m, v, top = np.zeros(1000), np.zeros(1000), 0.0
        for t, g in enumerate(g_seq, start=1):
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            top = max(top, float(np.max(np.abs(m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t)))))
        worst[beta1, beta2] = top
    assert worst[0.9, 0.9] <= 1 + 1e-12 and worst[0.99, 0.99] <= 1 + 1e-12
    assert worst[0.9, 0.999] > 1.5


# ------------------------------------------------------------------------------ Newton-Schulz


@pytest.mark.parametrize("shape", [(8, 8), (16, 40), (40, 16), (128, 256)])
@pytest.mark.parametrize("seed", range(3))
def test_five_newton_schulz_steps_put_the_singular_values_near_one(shape, seed):
    G = np.random.default_rng(seed).standard_normal(shape)
    s = np.linalg.svd(newton_schulz(G, 5), compute_uv=False)
    assert 0.55 < s.min() and s.max() < 1.25
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    X = newton_schulz(G, 5)
    assert np.sum(X * (U @ Vt)) / np.linalg.norm(X) / np.linalg.norm(U @ Vt) > 0.97  # aligned


def test_newton_schulz_commutes_with_orthogonal_maps_and_batches():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((5, 9))
    P, Q = _orthogonal(5, rng), _orthogonal(9, rng)
    for k in (0, 1, 5):
        assert np.allclose(newton_schulz(P @ G @ Q.T, k), P @ newton_schulz(G, k) @ Q.T, atol=1e-12)
    batch = rng.standard_normal((3, 6, 4))
    assert np.allclose(newton_schulz(batch), np.stack([newton_schulz(b) for b in batch]))
    assert np.allclose(newton_schulz(G, 0), G / np.linalg.norm(G))
    t = newton_schulz(torch.from_numpy(G))
    assert np.allclose(t.numpy(), newton_schulz(G))
    with pytest.raises(ValueError, match="matrix"):
        newton_schulz(np.ones(3))
    with pytest.raises(ValueError, match="steps"):
        newton_schulz(G, -1)


# ------------------------------------------------------------------------------ Muon


@pytest.mark.parametrize("shape", [(32, 48), (48, 32), (24, 24)])
@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_muon_matches_torch_optim_muon(shape, nesterov, weight_decay):
    gen = torch.Generator().manual_seed(sum(shape))
    W0 = torch.randn(shape, generator=gen)
    grads = [torch.randn(shape, generator=gen) for _ in range(6)]
    p = torch.nn.Parameter(W0.clone())
    reference = torch.optim.Muon([p], lr=0.05, nesterov=nesterov, weight_decay=weight_decay)
    course, m_state = [W0.clone()], []
    ordered, buf = W0.clone(), torch.zeros_like(W0)
    for g in grads:
        p.grad = g.clone()
        reference.step()
        muon_update(course, [g], m_state, lr=0.05, nesterov=nesterov, weight_decay=weight_decay)
        muon_update_torch_order([ordered], [g], [buf], 0.05, nesterov=nesterov,
                                weight_decay=weight_decay)
    assert torch.equal(ordered, p.detach())  # same order and bfloat16: bit for bit
    assert (course[0] - p.detach()).abs().max() < 5e-3  # float32 against bfloat16: 10 % of a step
    assert (course[0] - W0).abs().max() > 0.05


def test_muon_scales_tall_matrices_and_uses_the_coefficients_of_torch():
    from torch.optim import _muon

    assert (_muon.DEFAULT_A, _muon.DEFAULT_B, _muon.DEFAULT_C) == MUON_COEFFICIENTS
    rng = np.random.default_rng(2)
    for shape, scale in (((8, 2), 2.0), ((2, 8), 1.0)):
        g = rng.standard_normal(shape)
        (w,), _ = muon_update([np.zeros(shape)], [g], [], lr=0.1, momentum=0.0)
        assert np.allclose(w, -0.1 * scale * newton_schulz(g))
    with pytest.raises(ValueError, match="matrices"):
        muon_update([np.zeros(3)], [np.ones(3)], [])


def test_course_muon_and_sign_descent_optimizers_run_the_list_functions():
    torch.manual_seed(0)
    W = torch.randn(6, 4)
    grads = [torch.randn(6, 4) for _ in range(4)]
    for cls, fn, kw in (
        (CourseMuon, muon_update, dict(lr=0.03, momentum=0.9)),
        (CourseSignDescent, sign_descent_update, dict(lr=0.03)),
    ):
        p = torch.nn.Parameter(W.clone())
        opt = cls([p], **kw)
        params, state = [W.clone()], []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            if fn is muon_update:
                params, state = fn(params, [g], state, lr=0.03, momentum=0.9)
            else:
                params, state = fn(params, [g], state, lr=0.03, beta1=0.9)
        assert torch.allclose(p.detach(), params[0], atol=1e-6)
    with pytest.raises(ValueError, match="matrices"):
        CourseMuon([torch.nn.Parameter(torch.zeros(3))])


# ------------------------------------------------------------------------------ Shampoo


def test_shampoo_without_accumulation_is_the_orthogonalised_gradient():
    """Bernstein & Newhouse: fresh L = G G^T, R = G^T G give L^(-1/4) G R^(-1/4) = U V^T."""
    rng = np.random.default_rng(4)
    for shape in ((4, 7), (7, 4), (5, 5)):
        G = rng.standard_normal(shape)
        (w,), _, _ = shampoo_update([np.zeros(shape)], [G], [], [], lr=1.0, eps=1e-12)
        U, _, Vt = np.linalg.svd(G, full_matrices=False)
        assert np.allclose(-w, U @ Vt, atol=1e-4)


def test_shampoo_is_invariant_to_orthogonal_maps_and_runs_on_tensors():
    rng = np.random.default_rng(5)
    P, Q = _orthogonal(3, rng), _orthogonal(5, rng)
    grads = [rng.standard_normal((3, 5)) for _ in range(4)]
    a, La, Ra = [np.zeros((3, 5))], [], []
    b, Lb, Rb = [np.zeros((3, 5))], [], []
    for g in grads:
        a, La, Ra = shampoo_update(a, [g], La, Ra, lr=0.1)
        b, Lb, Rb = shampoo_update(b, [P @ g @ Q.T], Lb, Rb, lr=0.1)
    assert np.allclose(b[0], P @ a[0] @ Q.T, atol=1e-12)
    t, _, _ = shampoo_update([torch.zeros(3, 5, dtype=torch.float64)],
                             [torch.from_numpy(grads[0])], [], [], lr=0.1)
    c, _, _ = shampoo_update([np.zeros((3, 5))], [grads[0]], [], [], lr=0.1)
    assert np.allclose(t[0].numpy(), c[0])
