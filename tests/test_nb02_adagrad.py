"""Notebook 02's helpers: Adagrad experiments, torch comparisons, panels and exercise checkers."""

import time
import warnings

import numpy as np
import pytest
import torch

from course_utils import nb02_adagrad as lab
from course_utils import nb02_panels as panels
from course_utils.data import load_fashion_mnist
from course_utils.optimizers import CourseAdagrad, adagrad_update


@pytest.fixture(scope="module")
def fashion():
    X, y, *_ = load_fashion_mnist()
    return X[:5000], y[:5000]


# --- effective learning rate and eps placement ---------------------------------------------


def test_effective_lr_matches_hand_computation():
    grads = np.array([[1.0, 0.1], [3.0, 0.2]])
    eta = lab.effective_lr_history(grads, lr=0.5, eps=1e-8)
    expected = 0.5 / np.sqrt(np.array([[1.0, 0.01], [10.0, 0.05]]) + 1e-8)
    np.testing.assert_allclose(eta, expected, rtol=1e-15)
    eta_torch = lab.effective_lr_history(grads, lr=0.5, eps=1e-8, eps_inside_sqrt=False)
    np.testing.assert_allclose(eta_torch, 0.5 / (np.sqrt([[1.0, 0.01], [10.0, 0.05]]) + 1e-8))


def test_effective_lr_only_decreases_and_steps_are_scale_free():
    grads = lab.sample_gradients([0.01, 0.1, 1.0], steps=500, seed=0)
    eta = lab.effective_lr_history(grads, lr=0.1, eps=1e-8)
    assert np.all(np.diff(eta, axis=0) <= 0)
    steps = np.mean(np.abs(grads[-50:] * eta[-50:]), axis=0)
    # figure 2.1's claim: the step is about alpha / sqrt(t) for every gradient scale
    np.testing.assert_allclose(steps, 0.1 / np.sqrt(500), rtol=0.1)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("lr", [0.01, 0.1, 1.0])
def test_figure_2_1_curves_are_parallel_and_the_steps_equal(seed, lr):
    # On log-log axes every eta falls with slope -1/2: the same relative rate for all three.
    grads = lab.sample_gradients(list(lab.GRADIENT_SCALES.values()), steps=500, seed=seed)
    eta = lab.effective_lr_history(grads, lr=lr, eps=1e-8)
    t = np.arange(1, 501)
    slopes = [np.polyfit(np.log(t[49:]), np.log(eta[49:, i]), 1)[0] for i in range(3)]
    np.testing.assert_allclose(slopes, -0.5, atol=0.03)
    assert 80 < eta[-1, 0] / eta[-1, 2] < 125  # 100x apart in level
    dw = lab.measured_steps(lr=lr, seed=seed)[-50:].mean(axis=0)
    np.testing.assert_allclose(dw, lr / np.sqrt(500), rtol=0.15)


def test_first_step_knees_sit_at_sqrt_eps_and_eps():
    eps = 1e-10
    assert lab.first_step_size(np.sqrt(eps), 1.0, eps, True) == pytest.approx(2**-0.5)
    assert lab.first_step_size(eps, 1.0, eps, False) == pytest.approx(0.5)
    assert lab.first_step_size(1.0, 0.3, eps, True) == pytest.approx(0.3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_step_comparison(dtype):
    results = lab.one_step_comparison(lr=0.01, eps=1e-10, dtype=dtype)
    course, torch_conv = results.values()
    assert torch_conv.exact
    assert not course.allclose and course.maxdiff == pytest.approx(0.0099, rel=0.02)


def test_list_function_equals_course_optimizer_bitwise():
    torch.manual_seed(0)
    w0 = torch.randn(50, dtype=torch.float64)
    grads = [torch.randn(50, dtype=torch.float64) * 10.0**-k for k in range(6)]
    params, state = [w0.clone()], []
    p = w0.clone().requires_grad_(True)
    opt = CourseAdagrad([p], lr=0.05, eps=1e-8, eps_inside_sqrt=True)
    for g in grads:
        params, state = adagrad_update(params, [g], state, lr=0.05, eps=1e-8)
        p.grad = g.clone()
        opt.step()
    assert torch.equal(params[0], p.detach())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mlp_lockstep_torch_convention_is_exact_and_course_drifts(fashion, dtype):
    X, y = fashion
    exact, drift_exact = lab.compare_with_torch_on_mlp(X, y, "torch", dtype, steps=20)
    assert exact.exact and np.all(drift_exact == 0)
    course, drift = lab.compare_with_torch_on_mlp(X, y, "course", dtype, steps=20)
    assert not course.allclose and course.maxdiff > 1e-3
    assert drift[0] == pytest.approx(0.01, rel=0.05)  # one tiny gradient, a full step lr apart
    assert course.maxdiff == pytest.approx(drift[-1])


def test_mlp_drift_is_the_formula_not_rounding(fashion):
    X, y = fashion
    _, d32 = lab.compare_with_torch_on_mlp(X, y, "course", torch.float32, steps=20)
    _, d64 = lab.compare_with_torch_on_mlp(X, y, "course", torch.float64, steps=20)
    np.testing.assert_allclose(d32, d64, rtol=1e-2)


def test_bad_inputs_raise_clear_errors(fashion):
    X, y = fashion
    with pytest.raises(ValueError, match="convention"):
        lab.compare_with_torch_on_mlp(X, y, "keras")
    with pytest.raises(ValueError, match="batch_size"):
        lab.compare_with_torch_on_mlp(X[:10], y[:10])
    with pytest.raises(ValueError, match="steps"):
        lab.sample_gradients([1.0], steps=0)
    with pytest.raises(ValueError, match="positive"):
        lab.sample_gradients([-1.0])
    with pytest.raises(ValueError, match="eps"):
        lab.effective_lr_history(np.ones((2, 1)), lr=0.1, eps=-1.0)


# --- the stall's step count -----------------------------------------------------------------


@pytest.mark.parametrize("distance, lr", [(100.0, 0.5), (10.0, 1.0), (3.0, 0.7), (0.1, 1.0)])
def test_steps_to_cover_matches_brute_force(distance, lr):
    covered, T = 0.0, 0
    while covered < distance:
        T += 1
        covered += lr / np.sqrt(T)
    assert lab.steps_to_cover(distance, lr) == T


# --- panels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory", [lab.make_effective_lr_panel, panels.make_sparse_panel, panels.make_quadratic_panel]
)
def test_panel_sweeps_every_slider_extreme(factory):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, not only RuntimeWarning, fails the test
        panel = factory()
        default_image = bytes(panel.image.value)
        cpu_start, redraws_start = time.process_time(), panel.draw_count
        tried = panel.sweep_extremes()
        cpu_ms = 1000 * (time.process_time() - cpu_start) / (panel.draw_count - redraws_start)
        panel.set(**{name: w.max for name, w in panel.controls.items() if hasattr(w, "max")})
        assert panel.last_error is None
    assert len(tried) == 3 * len(panel.controls)
    assert [t for t in tried if t["error"]] == []
    for i in range(0, len(tried), 3):  # every slider changes the picture at one end at least
        low, high, default = tried[i : i + 3]
        assert len({low["image"], high["image"], default["image"]}) >= 2, low
    assert bytes(panel.image.value) != default_image
    median = float(np.median(panel.timings_ms))
    print(
        f"{factory.__name__}: median redraw {median:.0f} ms wall over {len(panel.timings_ms)}, "
        f"{cpu_ms:.0f} ms CPU per redraw"
    )
    # Speed is shown by benchmarks/bench_panels.py, not asserted here (timings are load-dependent).


def test_quadratic_panel_reports_divergence():
    panel = panels.make_quadratic_panel()
    panel.set(lr=10.0, kappa=1000.0, angle_deg=45.0, steps=200)
    assert panel.last_error is None
    panel.reset()
    assert panel.values == panel.defaults


def test_quadratic_comparison_figure_has_both_rows():
    from matplotlib.figure import Figure

    fig = panels.quadratic_comparison_figure(Figure(figsize=(12, 10)))
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert any("0°" in t for t in titles) and any("45°" in t for t in titles)


@pytest.mark.parametrize(
    "factory", [lab.make_effective_lr_panel, panels.make_sparse_panel, panels.make_quadratic_panel]
)
def test_slider_defaults_lie_on_the_slider_grid(factory):
    # The browser snaps values to the grid: an off-grid default would not survive a reset.
    panel = factory()
    for name, w in panel.controls.items():
        if hasattr(w, "base"):
            k = (np.log10(w.value) - w.min) / w.step
        elif hasattr(w, "step"):
            k = (w.value - w.min) / w.step
        else:
            continue
        assert abs(k - round(k)) < 1e-6, (name, w.value, k)
        assert w.min <= (np.log10(w.value) if hasattr(w, "base") else w.value) <= w.max


def test_log_slider_grid_passes_through_default_inside_the_range():
    from course_utils.widgets import log_slider

    w = log_slider("α", 2.0, 0.01, 10.0)
    assert 10**w.min >= 0.01 - 1e-12 and 10**w.max <= 10.0 + 1e-9
    k = (np.log10(w.value) - w.min) / w.step
    assert abs(k - round(k)) < 1e-9  # the browser's snapping keeps the default exactly
    with pytest.raises(ValueError, match="min <= value <= max"):
        log_slider("α", 5.0, 0.1, 1.0)


# --- the slide's two lines and the cause of the drift --------------------------------------


def _slide18_adagrad_update(params, grads, state, lr=0.01, eps=1e-8):
    """Slide 18's code (its one-line ``if`` split in two)."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        if len(state) <= i:
            state.append(torch.zeros_like(param))
        state[i].add_(grad * grad)
        std = torch.sqrt(state[i] + eps)
        param.addcdiv_(grad, std, value=-lr)
    return params, state


@pytest.mark.parametrize("lr, eps", [(0.5, 1e-10), (0.05, 1e-8), (2.0, 1e-6)])
@pytest.mark.parametrize("angle", [0.0, 45.0])
def test_slide_18_code_is_adagrad_update_on_the_quadratic(lr, eps, angle):
    from course_utils.quadratic import Quadratic

    q = Quadratic.from_kappa(100.0, angle_deg=angle)
    H = torch.tensor(q.H)
    w_slide, slide_state = torch.tensor([-4.0, 3.0], dtype=torch.float64), []
    params, state = [np.array([-4.0, 3.0])], []
    for _ in range(40):
        _slide18_adagrad_update([w_slide], [H @ w_slide], slide_state, lr=lr, eps=eps)
        params, state = adagrad_update(params, [q.grad(params[0])], state, lr=lr, eps=eps)
    np.testing.assert_allclose(w_slide.numpy(), params[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("eps", [1e-10, 1e-8])
def test_slide_18_code_is_not_torch_adagrad_for_small_gradients(eps):
    # eps inside the root (slides 3 and 18, the package's default) is not torch's sqrt(G) + eps.
    g = torch.tensor([1e-9, 1e-6, 1e-4, 0.1, 10.0], dtype=torch.float64)
    w_slide, st = torch.zeros(5, dtype=torch.float64), []
    _slide18_adagrad_update([w_slide], [g.clone()], st, lr=0.01, eps=eps)
    (w_pkg,), _ = adagrad_update([np.zeros(5)], [g.numpy()], [], lr=0.01, eps=eps)
    w_torch = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adagrad([w_torch], lr=0.01, eps=eps)
    w_torch.grad = g.clone()
    opt.step()
    (w_tc,), _ = adagrad_update(
        [np.zeros(5)], [g.numpy()], [], lr=0.01, eps=eps, eps_inside_sqrt=False
    )
    np.testing.assert_allclose(w_slide.numpy(), w_pkg, rtol=1e-12)
    np.testing.assert_allclose(w_torch.detach().numpy(), w_tc, rtol=1e-12)
    assert np.abs(w_slide.numpy() - w_torch.detach().numpy()).max() > 0.5 * 0.01  # differ by ~alpha


def test_the_drift_vanishes_when_eps_is_below_every_squared_gradient(fashion):
    X, y = fashion
    result, drift = lab.compare_with_torch_on_mlp(X, y, "course", torch.float64, 20, eps=1e-30)
    assert result.allclose and drift.max() < 1e-12


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("p_rare", [0.002, 0.01, 0.5])
@pytest.mark.parametrize("lrs", [(0.05, 0.3), (1.0, 1.0), (0.001, 0.01)])
def test_sparse_panel_runs_equal_the_demo_runs(seed, p_rare, lrs):
    from course_utils.nb02_demos import SPARSE_SETTING, adagrad_sparse, sgd_sparse, sparse_data

    x, y = sparse_data([seed], **{**SPARSE_SETTING, "p_rare": p_rare})
    w_sgd, w_ada, eta = panels.one_seed_runs(x[:, 0], y[:, 0], *lrs)
    ada, ada_eta = adagrad_sparse(x, y, lrs[1])
    np.testing.assert_array_equal(w_sgd, sgd_sparse(x, y, [lrs[0]])[0, :, 0])
    np.testing.assert_array_equal(w_ada, ada[:, 0])
    np.testing.assert_array_equal(eta, ada_eta[:, 0])


@pytest.mark.parametrize(
    "factory, moves",
    [
        (lab.make_effective_lr_panel, [{"lr": 0.3}, {"lr": 0.2}, {"lr": 0.15}]),
        (panels.make_sparse_panel, [{"lr_adagrad": 0.5}, {"p_rare": 0.02}, {"lr_sgd": 0.1}]),
    ],
)
def test_panels_keep_their_axes_while_the_main_sliders_move(factory, moves):
    p = factory()
    for move in moves:
        p.set(**move)
    assert p._fig.canvas._background is not None  # widgets.py's fast path was taken


@pytest.mark.parametrize("seed", [0, 1])
def test_sub_sqrt_eps_gradients_keep_appearing_and_the_drift_spreads(fashion, seed):
    X, y = fashion
    a = lab.drift_anatomy(X, y, steps=40, seed=seed)
    assert np.all(a["tiny"] > 0)
    assert np.all(np.diff(a["ever_tiny"]) >= 0) and a["ever_tiny"][-1] > 3 * a["ever_tiny"][0]
    assert a["apart"][-1] > 10 * max(a["apart"][1], 1)
