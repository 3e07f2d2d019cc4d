"""course_utils.nb06_theory / nb06_problem: bounds on hand-computed values, tau, the paper's update
vs torch.optim and vs the course's optimizers, the logistic problem's constants, each lesson of
notebook 06 over a range of seeds and settings, and the bounds panel."""

import math
import time

import numpy as np
import pytest
import torch

from course_utils import nb06_problem as pr
from course_utils import nb06_theory as th
from course_utils.nb06_theory_panel import make_bounds_panel

# One small setting for the hand computations: N = 100, d = 2, R = 1, L = 1, alpha = 0.5,
# eps = 0.01, F(x0) - F* = 1, so sqrt(N) = 10 and ln(1 + N R^2 / eps) = ln(10001).
HAND = dict(d=2, R=1.0, L=1.0, alpha=0.5, eps=0.01, f0_minus_fstar=1.0)


def test_adagrad_bound_by_hand():
    b = th.adagrad_bound(100, **HAND)
    assert b.init == pytest.approx(2 * 1 * 1 / (0.5 * 10))  # 0.4
    # (4 d R^2 + alpha d R L) = 8 + 1 = 9
    assert b.noise == pytest.approx(9 * math.log(10001) / 10)
    assert b.total == pytest.approx(0.4 + 0.9 * 9.210440366976517)


def test_adam_bound_by_hand():
    b = th.adam_bound(100, beta2=0.9, **HAND)
    E = 4 * 2 / math.sqrt(0.1) + 0.5 * 2 / 0.1  # 25.2982... + 10
    assert E == pytest.approx(35.29822128134704)
    assert b.init == pytest.approx(2 / (0.5 * 100))  # 0.04
    assert b.noise == pytest.approx(E * (math.log(1 + 1 / (0.1 * 0.01)) / 100 - math.log(0.9)))


def test_adagrad_momentum_bound_by_hand():
    b = th.adagrad_momentum_bound(100, beta1=0.5, **HAND)
    # N~ = 100 - 0.5/0.5 = 99; E = 0.5*2 + 12*2/0.5 + 2*0.25*2*0.5/0.125 = 1 + 48 + 4 = 53
    assert b.init == pytest.approx(2 * 10 / (0.5 * 99))
    assert b.noise == pytest.approx(10 / 99 * 53 * math.log(10001))


def test_adam_momentum_bound_by_hand():
    b = th.adam_momentum_bound(100, beta1=0.5, beta2=0.9, **HAND)
    c = 1 - 0.5 / 0.9  # 4/9
    E = (
        0.5 * 2 * 0.5 / (c * 0.1)  # 11.25
        + 12 * 2 * math.sqrt(0.5) / (c**1.5 * math.sqrt(0.1))  # 181.12...
        + 2 * 0.25 * 2 * 0.5 / (c * 0.1**1.5)  # 35.57...
    )
    assert E == pytest.approx(11.25 + 181.1215 + 35.5756, rel=1e-5)
    assert b.init == pytest.approx(2 / (0.5 * 99))
    assert b.noise == pytest.approx(E / 99 * (math.log(1 + 1 / (0.1 * 0.01)) - 100 * math.log(0.9)))


def test_momentum_theorems_at_beta1_zero_differ_only_by_the_constant_12():
    """At beta1 = 0 Theorems 3/4 have 12 d R^2 where Theorems 2/1 have 4 d R^2."""
    t2, t3 = th.adagrad_bound(100, **HAND), th.adagrad_momentum_bound(100, beta1=0.0, **HAND)
    assert t3.init == pytest.approx(t2.init)
    assert t3.noise / t2.noise == pytest.approx((12 * 2 + 1) / (4 * 2 + 1))
    t1, t4 = (
        th.adam_bound(100, beta2=0.9, **HAND),
        th.adam_momentum_bound(100, beta1=0.0, beta2=0.9, **HAND),
    )
    assert t4.init == pytest.approx(t1.init)
    E1 = 4 * 2 / math.sqrt(0.1) + 0.5 * 2 / 0.1
    E4 = 12 * 2 / math.sqrt(0.1) + 0.5 * 2 / 0.1
    assert t4.noise / t1.noise == pytest.approx(E4 / E1)


def test_momentum_makes_every_bound_worse():
    for beta1 in (0.3, 0.6, 0.9):
        prev = th.adagrad_momentum_bound(1e4, beta1=beta1 - 0.1, **HAND).total
        assert th.adagrad_momentum_bound(1e4, beta1=beta1, **HAND).total > prev
        prev = th.adam_momentum_bound(1e4, beta1=beta1 - 0.1, beta2=0.99, **HAND).total
        assert th.adam_momentum_bound(1e4, beta1=beta1, beta2=0.99, **HAND).total > prev


def test_adam_floor_is_the_large_N_limit():
    floor = th.adam_noise_floor(2, 1.0, 1.0, 0.5, 0.9)
    assert floor == pytest.approx(-(4 * 2 / math.sqrt(0.1) + 0.5 * 2 / 0.1) * math.log(0.9))
    assert th.adam_bound(1e14, beta2=0.9, **HAND).total == pytest.approx(floor, rel=1e-9)
    floor4 = th.adam_noise_floor(2, 1.0, 1.0, 0.5, 0.9, beta1=0.5)
    assert th.adam_momentum_bound(1e14, beta1=0.5, beta2=0.9, **HAND).total == pytest.approx(
        floor4, rel=1e-9
    )


def test_tuned_adam_has_adagrads_rate():
    """alpha = 1/sqrt(N), beta2 = 1 - 1/N: bound * sqrt(N) / ln(N) stays within a small band."""
    Ns = np.geomspace(1e2, 1e10, 9)
    scaled = []
    for N in Ns:
        kw = dict(HAND, alpha=1 / math.sqrt(N))
        scaled.append(th.adam_bound(N, beta2=1 - 1 / N, **kw).total * math.sqrt(N) / math.log(N))
    assert max(scaled) / min(scaled) < 2.0
    fixed = [th.adam_bound(N, beta2=0.9, **HAND).total * math.sqrt(N) for N in Ns]
    assert fixed[-1] / fixed[0] > 1e3  # a fixed beta2 does not: the floor stays


def test_bounds_broadcast_over_N_and_beta2():
    Ns = np.array([10.0, 100.0, 1000.0])
    b = th.adagrad_bound(Ns, **HAND)
    assert b.total.shape == (3,)
    assert b.total[1] == pytest.approx(th.adagrad_bound(100, **HAND).total)
    u = np.array([0.1, 0.01])
    assert th.adam_bound(100, beta2=1 - u, **HAND).total.shape == (2,)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: th.adagrad_bound(100, **{**HAND, "eps": 0.0}), "eps"),
        (lambda: th.adagrad_bound(0, **HAND), "N"),
        (lambda: th.adam_bound(100, beta2=1.0, **HAND), "adagrad_bound"),
        (lambda: th.adam_momentum_bound(100, beta1=0.9, beta2=0.9, **HAND), "beta1 < beta2"),
        (lambda: th.adagrad_momentum_bound(5, beta1=0.9, **HAND), "N > beta1"),
        (lambda: th.adagrad_bound(100, **{**HAND, "alpha": -1.0}), "alpha"),
        (lambda: th.tau_weights(0, 0.5), "N"),
        (lambda: th.PaperOptimizer(np.zeros((3, 2)), 0.1, beta2=1.5), "beta2"),
        (lambda: th.PaperOptimizer(np.zeros((3, 2)), [0.1, 0.2], beta2=0.9), "shape (3,)"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_best_adagrad_alpha_minimises_the_bound():
    a = th.best_adagrad_alpha(1e4, 10, 1.0, 0.08, 1e-8, 0.13)
    at = th.adagrad_bound(1e4, 10, 1.0, 0.08, a, 1e-8, 0.13).total
    for factor in (0.9, 0.99, 1.01, 1.1):
        assert th.adagrad_bound(1e4, 10, 1.0, 0.08, a * factor, 1e-8, 0.13).total > at


def test_best_adam_beta2_matches_a_dense_grid():
    args = dict(N=1e4, d=10, R=1.0, L=0.08, alpha=1e-3, eps=1e-8, f0_minus_fstar=0.13)
    best = th.best_adam_beta2(**args)
    u = np.geomspace(1e-8, 0.5, 20001)
    totals = th.adam_bound(args["N"], args["d"], 1.0, 0.08, 1e-3, 1 - u, 1e-8, 0.13).total
    assert (1 - best) == pytest.approx(u[np.argmin(totals)], rel=2e-3)


def test_crossing_point_of_two_power_laws():
    N = np.geomspace(1, 1e4, 9)
    assert th.crossing_point(N, 1 / N, np.full_like(N, 0.01)) == pytest.approx(100.0)
    assert math.isnan(th.crossing_point(N, 0.001 / N, np.full_like(N, 0.01)))


def test_tau_weights_by_hand_and_sampling():
    assert th.tau_weights(4, 0.0) == pytest.approx([0.25] * 4)
    w = th.tau_weights(3, 0.5)  # 1 - 0.5^3, 1 - 0.5^2, 1 - 0.5 = 0.875, 0.75, 0.5
    assert w == pytest.approx(np.array([0.875, 0.75, 0.5]) / 2.125)
    tau = th.sample_tau(3, 0.5, 200_000, np.random.default_rng(0))
    assert np.bincount(tau, minlength=3) / tau.size == pytest.approx(w, abs=0.005)


def test_paper_step_size():
    assert th.paper_step_size(7, 0.1) == pytest.approx(0.1)  # Adagrad
    assert th.paper_step_size(7, 0.1, beta1=0.5) == pytest.approx(0.1)  # Theorem 3: alpha_n = alpha
    assert th.paper_step_size(1, 0.1, 0.5, 0.9) == pytest.approx(0.05)  # sqrt((1-b2)/(1-b2)) = 1
    assert th.paper_step_size(2, 0.1, 0.0, 0.9) == pytest.approx(0.1 * math.sqrt(1.9))
    assert th.paper_step_size(10_000, 0.1, 0.0, 0.9) == pytest.approx(0.1 / math.sqrt(0.1))


def test_paper_optimizer_two_steps_by_hand():
    opt = th.PaperOptimizer([[1.0, 2.0]], alpha=0.1, beta1=0.5, beta2=0.9, eps=0.0)
    opt.step([[0.5, -1.0]])  # m = g, v = g^2, alpha_1 = 0.05: x -= 0.05 * sign(g)
    assert opt.x == pytest.approx(np.array([[0.95, 2.05]]))
    opt.step([[1.0, 1.0]])
    m = np.array([0.5 * 0.5 + 1.0, 0.5 * -1.0 + 1.0])  # [1.25, 0.5]
    v = np.array([0.9 * 0.25 + 1.0, 0.9 * 1.0 + 1.0])  # [1.225, 1.9]
    alpha_2 = 0.1 * 0.5 * math.sqrt(1.9)
    assert opt.x == pytest.approx(np.array([[0.95, 2.05]]) - alpha_2 * m / np.sqrt(v))


def test_paper_optimizer_runs_are_independent():
    """Hyperparameters per run: column r equals a run made alone with its own values."""
    g = np.random.default_rng(1).normal(size=(20, 3, 2))
    together = th.PaperOptimizer(
        np.ones((3, 2)), [0.1, 0.2, 0.3], [0.0, 0.5, 0.9], [1.0, 0.9, 0.99]
    )
    alone = th.PaperOptimizer(np.ones((1, 2)), 0.2, 0.5, 0.9)
    for k in range(20):
        together.step(g[k])
        alone.step(g[k, 1:2])
    assert together.x[1] == pytest.approx(alone.x[0], abs=1e-15)


# ---------------------------------------------------------------- paper == torch.optim (fp64)


def _noisy_quadratic_grad(x: np.ndarray, k: int) -> np.ndarray:
    """A deterministic stochastic gradient: H x - b plus noise that depends on the step k."""
    H = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.1]])
    noise = np.random.default_rng(1000 + k).normal(size=3)
    return H @ x - np.array([1.0, -2.0, 0.5]) + 0.3 * noise


def _run_paper(steps, alpha, beta1, beta2):
    opt = th.PaperOptimizer([[1.0, -1.0, 2.0]], alpha, beta1, beta2, eps=0.0)
    for k in range(steps):
        opt.step(_noisy_quadratic_grad(opt.x[0], k)[None])
    return opt.x[0]


def _run_torch(steps, make_opt, beta1=0.0, scale_lr=True):
    p = torch.nn.Parameter(torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64))
    opt = make_opt([p])
    # LambdaLR's factor for the n-th step (n = 1, 2, ...) is lr_lambda(n - 1).
    sched = (
        torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 - beta1 ** (k + 1))
        if scale_lr
        else None
    )
    for k in range(steps):
        p.grad = torch.from_numpy(_noisy_quadratic_grad(p.detach().numpy().copy(), k))
        opt.step()
        if sched is not None:
            sched.step()
    return p.detach().numpy()


def test_paper_adagrad_equals_torch_adagrad_eps0():
    paper = _run_paper(300, 0.1, 0.0, 1.0)
    ref = _run_torch(300, lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=0.0), scale_lr=False)
    diff = np.max(np.abs(paper - ref))
    print(f"paper Adagrad vs torch.optim.Adagrad(eps=0), fp64, 300 steps: maxdiff {diff:.1e}")
    assert diff < 1e-12


@pytest.mark.parametrize("beta1, beta2", [(0.0, 0.99), (0.9, 0.999), (0.5, 0.9)])
def test_paper_adam_equals_torch_adam_eps0_with_lr_scaled(beta1, beta2):
    def make(ps):
        return torch.optim.Adam(ps, lr=0.01, betas=(beta1, beta2), eps=0.0)

    paper = _run_paper(300, 0.01, beta1, beta2)
    ref = _run_torch(300, make, beta1=beta1)
    diff = np.max(np.abs(paper - ref))
    print(f"paper Adam vs torch Adam(eps=0) + LambdaLR(1-β1^n), β=({beta1}, {beta2}): {diff:.1e}")
    assert diff < 1e-12
    if beta1 > 0:  # the scaling matters: without it the runs differ
        assert np.max(np.abs(paper - _run_torch(300, make, beta1, scale_lr=False))) > 1e-4


# ---------------------------------------------------------------- the logistic problem


@pytest.fixture(scope="module")
def problem():
    return pr.make_logistic_problem()


def test_logistic_gradient_matches_finite_differences(problem):
    x = np.random.default_rng(2).normal(size=(2, problem.d))
    g = problem.grad(x)
    h = 1e-6
    for j in range(problem.d):
        e = np.zeros(problem.d)
        e[j] = h
        fd = (problem.loss(x + e) - problem.loss(x - e)) / (2 * h)
        assert g[:, j] == pytest.approx(fd, abs=1e-8)
    idx = np.arange(problem.n)
    per_sample = problem.sample_grad(np.repeat(x[:1], problem.n, 0), idx)
    assert per_sample.mean(axis=0) == pytest.approx(g[0], abs=1e-14)


def test_logistic_constants_hold(problem):
    rng = np.random.default_rng(3)
    X = rng.normal(scale=3.0, size=(50, problem.d))
    for i in range(0, problem.n, 37):
        g = problem.sample_grad(X, np.full(50, i))
        assert np.abs(g).max() <= problem.G_inf < problem.R
    assert problem.R == pytest.approx(problem.G_inf + 1e-4)
    for x in X[:10]:  # Hessian at x: A^T diag(s(1-s)) A / n, never above L
        s = 1 / (1 + np.exp(-(problem.A @ x) * problem.y))
        H = (problem.A.T * (s * (1 - s))) @ problem.A / problem.n
        assert np.linalg.eigvalsh(H)[-1] <= problem.L + 1e-15
    assert np.linalg.norm(problem.grad(problem.x_star[None])) < 1e-12
    assert np.all(problem.loss(X) > problem.f_star)
    assert problem.f0_minus_fstar() == pytest.approx(math.log(2) - problem.f_star)


def test_measure_and_expected_over_tau(problem):
    gs = pr.measure_grad_sq(problem, 50, alpha=0.3, runs=4, seed=0)
    assert gs.shape == (50, 4)
    g0 = problem.grad(np.zeros((1, problem.d)))[0]
    assert gs[0] == pytest.approx(np.full(4, g0 @ g0))
    e = pr.expected_over_tau(gs, [1, 10, 50])
    assert e[0] == pytest.approx(gs[0]) and e[2] == pytest.approx(gs.mean(axis=0))
    w = th.tau_weights(50, 0.9)
    assert pr.expected_over_tau(gs, [50], 0.9)[0] == pytest.approx(w @ gs)
    again = pr.measure_grad_sq(problem, 50, alpha=0.3, runs=4, seed=0)
    assert np.array_equal(gs, again)  # seeded: identical
    with pytest.raises(ValueError, match="exceeds"):
        pr.expected_over_tau(gs, [51])


def test_measure_configs_runs_settings_side_by_side(problem):
    out = pr.measure_configs(
        problem, 30, {"ada": dict(alpha=0.3), "adam": dict(alpha=0.05, beta2=0.9)}, runs=3
    )
    assert set(out) == {"ada", "adam"} and out["ada"].shape == (30, 3)
    assert np.array_equal(out["ada"][0], out["adam"][0])  # same start x0 = 0
    assert not np.allclose(out["ada"][-1], out["adam"][-1])
    with pytest.raises(ValueError, match="Unknown hyperparameter"):
        pr.measure_configs(problem, 5, {"x": dict(alpha=0.1, lr=0.1)})


def test_full_gradient_blocks_agree_with_one_matmul(problem):
    """The blocked gradient (kept small for single-threaded BLAS) equals the plain formula."""
    X = np.random.default_rng(5).normal(size=(300, problem.d))
    s = 1 / (1 + np.exp(problem.y * (X @ problem.A.T)))  # sigma(-y a.x)
    plain = (-problem.y * s) @ problem.A / problem.n
    assert problem.grad(X) == pytest.approx(plain, abs=1e-15)


def test_loglog_slope():
    x = np.geomspace(1, 1e4, 7)
    assert pr.loglog_slope(x, 3 * x**-0.5) == pytest.approx(-0.5)


# ---------------------------------------------------------------- the notebook's lessons


def test_paper_optimizer_is_the_course_adagrad_and_adam():
    """The paper's update is optimizers.adagrad_update (eps inside the root) for beta2 = 1, and
    optimizers.adam_update without the m correction, eps inside the root, for beta2 < 1, once
    its eps is rescaled to eps (1 - beta2) / (1 - beta2^n) at step n."""
    from course_utils.optimizers import adagrad_update, adam_update

    grads = np.random.default_rng(0).normal(size=(40, 1, 3))
    for beta1, beta2 in ((0.0, 1.0), (0.0, 0.99), (0.9, 0.999)):
        opt = th.PaperOptimizer(np.ones((1, 3)), alpha=0.1, beta1=beta1, beta2=beta2, eps=1e-8)
        w, state, m, v = np.ones((1, 3)), [], [], []
        for n, g in enumerate(grads, start=1):
            opt.step(g)
            if beta2 == 1.0:
                (w,), state = adagrad_update([w], [g], state, lr=0.1, eps=1e-8)
            else:
                eps_n = 1e-8 * (1 - beta2) / (1 - beta2**n)
                (w,), m, v = adam_update([w], [g], m, v, lr=0.1, beta1=beta1, beta2=beta2,
                                         eps=eps_n, t=n, correct_m=False, eps_inside_sqrt=True)
        np.testing.assert_allclose(opt.x, w, rtol=1e-12, atol=1e-14)


def test_agreement_check_covers_adagrad_momentum_and_catches_a_wrong_step(monkeypatch):
    assert all(d < 1e-14 for d in pr.agreement_check().values())
    real = th.paper_step_size

    def old_convention(n, alpha, beta1=0.0, beta2=1.0):  # alpha (1 - beta1) for Adagrad too
        return np.where(np.asarray(beta2) == 1, alpha * (1 - np.asarray(beta1)),
                        real(n, alpha, beta1, beta2))

    monkeypatch.setattr(th, "paper_step_size", old_convention)
    bad = pr.agreement_check()
    assert bad[0.9, 1.0] > 1e-3 and bad[0.0, 1.0] < 1e-14


def test_trivial_bound_and_where_bounds_become_informative(problem):
    c = dict(d=problem.d, R=problem.R, L=problem.L, eps=problem.eps,
             f0_minus_fstar=problem.f0_minus_fstar())
    trivial = th.trivial_bound(problem.d, problem.R, problem.eps)
    assert trivial == pytest.approx(problem.d * problem.G_inf**2)
    N = np.geomspace(10, 1e7, 3001)
    flat = np.full(N.shape, trivial)
    ada = th.crossing_point(N, th.adagrad_bound(N, alpha=0.5, **c).total, flat)
    adam = th.crossing_point(N, th.adam_bound(N, alpha=0.05, beta2=0.99, **c).total, flat)
    assert 1.2e4 < ada < 1.35e4 and 1.4e3 < adam < 1.8e3
    with pytest.raises(ValueError, match="R > sqrt"):
        th.trivial_bound(10, 1e-5, 1e-8)


@pytest.mark.parametrize("seed", [4, 11])
def test_lemma_52_log_term_genuine_floor_tight(problem, seed):
    lemma = pr.lemma_check(problem, N=4000, beta2s=(1.0, 0.99, 0.999), seed=seed)
    for beta2 in (1.0, 0.99, 0.999):
        s = lemma[beta2]
        assert np.all(s["sum"] <= s["lemma"] + 1e-9)
        assert np.all(s["lemma"] <= s["worst_case"] + 1e-9)
    assert np.all(np.abs(lemma[1.0]["sum"] / np.log(4000) - 1) < 0.35)
    for beta2 in (0.99, 0.999):
        assert np.all(lemma[beta2]["sum"] > 0.9 * lemma[beta2]["floor_part"])


def test_lemma_sums_by_hand():
    a = np.array([[1.0], [3.0]])
    s = th.lemma_sums(a, beta2=0.5, eps=1.0)  # v = 1, 3.5
    assert s["sum"][0] == pytest.approx(1 / 2 + 3 / 4.5)
    assert s["lemma"][0] == pytest.approx(math.log(4.5) - 2 * math.log(0.5))
    assert th.lemma_sums(a, 1.0, 1.0)["sum"][0] == pytest.approx(1 / 2 + 3 / 5)


@pytest.mark.parametrize("seed", [5, 6])
def test_measured_floor_follows_alpha_bound_floor_follows_beta2(problem, seed):
    floors = pr.floor_table(problem, alphas=(0.05, 0.0125), beta2s=(0.99, 0.999), N=3000,
                            runs=6, seed=seed)
    m = {k: v[0] for k, v in floors.items()}
    b = {k: v[1] for k, v in floors.items()}
    for beta2 in (0.99, 0.999):
        assert 2.5 < m[0.05, beta2] / m[0.0125, beta2] < 5.5
        assert b[0.05, beta2] / b[0.0125, beta2] < 1.05
    for alpha in (0.05, 0.0125):
        assert b[alpha, 0.999] < 0.4 * b[alpha, 0.99]
        assert 0.75 < m[alpha, 0.999] / m[alpha, 0.99] < 1.3


def test_momentum_at_fixed_step_size_changes_nothing(problem):
    mom = pr.momentum_experiment(problem, [0.0, 0.9], N=4000, runs=12, seed=8)
    ratio = {s: mom[s, 0.9].mean() / mom[s, 0.0].mean() for s in
             ("adagrad", "adagrad, step α(1-β1)", "adam")}
    assert ratio["adagrad"] > 3
    assert 0.75 < ratio["adagrad, step α(1-β1)"] < 1.33 and 0.75 < ratio["adam"] < 1.33


def test_beta1_exponent_needs_its_conditions(problem):
    c = dict(d=problem.d, R=problem.R, L=problem.L, eps=problem.eps,
             f0_minus_fstar=problem.f0_minus_fstar(), N=1e4)
    k = th.beta1_exponent
    assert k(th.adagrad_momentum_bound, 0.5, alpha=0.5, **c) == pytest.approx(1, abs=0.05)
    assert k(th.adam_momentum_bound, 0.9, alpha=0.05, beta2=0.9999, **c) == pytest.approx(1, abs=0.05)
    assert k(th.adam_momentum_bound, 0.95, alpha=0.05, beta2=0.99, **c) > 1.3


def test_adagrad_long_run_slope_drifts_towards_minus_half(problem):
    long = pr.adagrad_long_run(problem, N=20_000, runs=8, record_every=20, seed=3)
    slopes = list(long["slopes"].values())
    assert len(slopes) == 2 and slopes[0] < slopes[1] < -0.3
    with pytest.raises(ValueError, match="record_every"):
        pr.measure_grad_sq(problem, 10, alpha=0.1, record_every=0)


def test_check_constants_and_torch_mapping(problem):
    largest, curvature = pr.check_constants(problem, points=20)
    assert largest <= problem.R and curvature <= problem.L
    same_adagrad, same_adam, different = pr.torch_mapping_checks(steps=100)
    assert same_adagrad.maxdiff < 1e-12 and same_adam.maxdiff < 1e-12 and different.maxdiff > 1e-4


# ---------------------------------------------------------------- the panel


def test_bounds_panel_sweeps_extremes_and_redraws_fast():
    panel = make_bounds_panel()
    tried = panel.sweep_extremes()
    errors = [t for t in tried if t["error"] is not None]
    assert not errors, errors
    assert len({t["image"] for t in tried}) >= len(panel.controls)  # the picture changes
    for beta1 in (0.5, 0.9, 0.99):  # momentum, and beta1 >= beta2 (drawn as a warning)
        panel.set(beta1=beta1, one_minus_beta2=0.5)
        assert panel.last_error is None
    panel.set(beta1=0.99, N=10)  # N below beta1/(1 - beta1): no valid bound, still drawn
    assert panel.last_error is None
    panel.reset()
    panel.timings_ms.clear()
    cpu_ms = []
    for alpha in np.geomspace(1e-4, 10, 25):
        start = time.thread_time()
        panel.set(alpha=alpha)
        cpu_ms.append((time.thread_time() - start) * 1000)
    wall, cpu = float(np.median(panel.timings_ms)), float(np.median(cpu_ms))
    print(f"bounds panel: median redraw {wall:.0f} ms wall, {cpu:.0f} ms CPU (25 redraws)")
    # CPU time, not wall time: other jobs on a shared 2-core machine inflate the wall clock.
    # Speed is shown by benchmarks/bench_panels.py, not asserted here (timings are load-dependent).


def test_bounds_panel_texts_stay_inside_the_figure_at_every_extreme():
    from course_utils.nb06_theory_panel import make_bounds_panel
    from course_utils.widgets import text_overflow_at_extremes, texts_outside_figure

    panel = make_bounds_panel()
    assert text_overflow_at_extremes(panel) == []
    panel.set(beta1=0.97)  # where the best-beta2 note used to run off the right edge
    assert texts_outside_figure(panel._fig) == []
