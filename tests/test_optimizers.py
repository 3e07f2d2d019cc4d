"""From-scratch optimizers against torch.optim after 200 steps on a small MLP."""

import numpy as np
import pytest
import torch

from course_utils.optimizers import (
    CourseAdagrad,
    CourseAdam,
    CourseAdamW,
    adagrad_update,
    adam_update,
    adamw_update,
    rmsprop_update,
)

TOL = {torch.float32: 1e-6, torch.float64: 1e-12}


def make_problem(dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 20, generator=g, dtype=dtype)
    y = torch.randint(0, 5, (64,), generator=g)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 5)
    ).to(dtype)
    return model, X, y


def train(model, X, y, opt, steps=200):
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def maxdiff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b))


def run_pair(dtype, ours, theirs, **kw):
    m1, X, y = make_problem(dtype)
    m2, _, _ = make_problem(dtype)
    return maxdiff(
        train(m1, X, y, ours(m1.parameters(), **kw)), train(m2, X, y, theirs(m2.parameters(), **kw))
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_matches_torch(dtype):
    assert run_pair(dtype, CourseAdam, torch.optim.Adam, lr=1e-3) < TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_l2_matches_torch(dtype):
    assert run_pair(dtype, CourseAdam, torch.optim.Adam, lr=1e-3, weight_decay=1e-2) < TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adamw_matches_torch(dtype):
    assert run_pair(dtype, CourseAdamW, torch.optim.AdamW, lr=1e-3, weight_decay=0.1) < TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adagrad_torch_convention_matches_torch(dtype):
    m1, X, y = make_problem(dtype)
    m2, _, _ = make_problem(dtype)
    ours = CourseAdagrad(m1.parameters(), lr=0.05, eps=1e-10, eps_inside_sqrt=False)
    theirs = torch.optim.Adagrad(m2.parameters(), lr=0.05, eps=1e-10)
    assert maxdiff(train(m1, X, y, ours), train(m2, X, y, theirs)) < TOL[dtype]


def test_adagrad_course_convention_drifts_from_torch():
    """Documents the eps-placement lesson of notebook 02: the course's sqrt(G + eps) is not torch's."""
    m1, X, y = make_problem(torch.float64)
    m2, _, _ = make_problem(torch.float64)
    ours = CourseAdagrad(m1.parameters(), lr=0.05, eps=1e-8)  # sqrt(G + eps)
    theirs = torch.optim.Adagrad(m2.parameters(), lr=0.05, eps=1e-8)  # sqrt(G) + eps
    drift = maxdiff(train(m1, X, y, ours), train(m2, X, y, theirs))
    assert 1e-4 < drift < 1.0  # measured about 1e-2: far above rounding, far below divergence


def test_adagrad_eps_placement_first_step():
    """At |g| = 1e-5 the course's first step is 0.71*lr, torch's is about lr (eps = 1e-10)."""
    g = np.array([1e-5])
    (w_course,), _ = adagrad_update([np.zeros(1)], [g], [], lr=1.0, eps=1e-10)
    assert abs(-w_course[0] - 1 / np.sqrt(2)) < 1e-3


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_list_functions_match_optimizer_classes(dtype):
    """The visible list functions and the Optimizer classes are the same math."""
    m1, X, y = make_problem(dtype)
    m2, _, _ = make_problem(dtype)
    opt = CourseAdamW(m1.parameters(), lr=1e-2, weight_decay=0.1)
    ref = train(m1, X, y, opt, steps=50)
    params = [p.detach().clone() for p in m2.parameters()]
    m_state, v_state = [], []
    for t in range(1, 51):
        for p, w in zip(m2.parameters(), params):
            p.data.copy_(w)
        m2.zero_grad()
        torch.nn.functional.cross_entropy(m2(X), y).backward()
        grads = [p.grad for p in m2.parameters()]
        params, m_state, v_state = adamw_update(
            params, grads, m_state, v_state, lr=1e-2, weight_decay=0.1, t=t
        )
    assert maxdiff(params, ref) < TOL[dtype]


def test_adam_update_bias_correction_first_step():
    """With m0 = v0 = 0, the first corrected step is lr * g/|g| (up to eps) whatever |g| is."""
    for scale in (1e-3, 1.0, 1e3):
        (w,), m, v = adam_update([np.zeros(1)], [np.array([scale])], [], [], lr=0.1, eps=0.0, t=1)
        assert w[0] == pytest.approx(-0.1, rel=1e-12)
        assert m[0][0] == pytest.approx(0.1 * scale) and v[0][0] == pytest.approx(0.001 * scale**2)


def test_state_lists_grow_on_first_use_and_are_returned():
    params = [np.ones(3), np.ones(2)]
    grads = [np.ones(3), np.ones(2)]
    state = []
    params, state = adagrad_update(params, grads, state)
    assert len(state) == 2 and np.allclose(state[0], 1.0)
    _, m, v = adam_update([np.ones(3)], [np.ones(3)], [], [], t=1)
    assert len(m) == len(v) == 1


def test_adamw_decays_before_the_step():
    (w,), _, _ = adamw_update(
        [np.array([2.0])], [np.array([0.0])], [], [], lr=0.1, weight_decay=0.5, eps=1e-8, t=1
    )
    assert w[0] == pytest.approx(2.0 * (1 - 0.05))  # zero gradient: only the decay moves w


def test_state_dict_round_trip():
    model, X, y = make_problem(torch.float64)
    opt = CourseAdam(model.parameters(), lr=1e-2)
    train(model, X, y, opt, steps=3)
    sd = opt.state_dict()
    opt2 = CourseAdam(model.parameters(), lr=1e-2)
    opt2.load_state_dict(sd)
    first = next(iter(opt2.state.values()))
    assert int(first["step"].item()) == 3 and first["exp_avg"].abs().sum() > 0


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: CourseAdam(p, lr=-1e-3), "learning rate lr=-0.001"),
        (lambda p: CourseAdam(p, betas=(1.0, 0.999)), "beta1=1.0"),
        (lambda p: CourseAdamW(p, betas=(0.9, -0.1)), "beta2=-0.1"),
        (lambda p: CourseAdam(p, eps=-1e-8), "eps=-1e-08"),
        (lambda p: CourseAdamW(p, weight_decay=-0.1), "weight_decay=-0.1"),
        (lambda p: CourseAdagrad(p, lr=float("nan")), "learning rate"),
    ],
)
def test_hyperparameter_validation(make, match):
    model, _, _ = make_problem(torch.float32)
    with pytest.raises(ValueError, match=match):
        make(model.parameters())


def test_list_function_validation():
    with pytest.raises(ValueError, match="beta2"):
        adam_update([np.ones(1)], [np.ones(1)], [], [], beta2=1.0)
    with pytest.raises(ValueError, match="1 gradients"):
        adagrad_update([np.ones(1), np.ones(1)], [np.ones(1)], [])
    with pytest.raises(ValueError, match="t=0"):
        adam_update([np.ones(1)], [np.ones(1)], [], [], t=0)


def _torch_run(opt_cls, h, w0, steps=100, **kw):
    w = torch.tensor(w0, requires_grad=True)
    opt = opt_cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (torch.tensor(h) * w * w).sum()).backward()
        opt.step()
    return w.detach().numpy()


def _numpy_run(step, h, w0, steps=100):
    w, state = [w0.copy()], ([], [])
    for t in range(1, steps + 1):
        w = step(w, [h * w[0]], state, t)
    return w[0]


@pytest.fixture
def quad():
    rng = np.random.default_rng(3)
    return rng.uniform(0.1, 3.0, size=(3, 4)), rng.normal(size=(3, 4))


def test_rmsprop_on_numpy_arrays_matches_torch(quad):
    h, w0 = quad

    def step(w, g, state, t):
        return rmsprop_update(w, g, state[0], lr=0.01, beta2=0.9, eps=1e-8, t=t)[0]

    ours = _numpy_run(step, h, w0)
    theirs = _torch_run(torch.optim.RMSprop, h, w0, lr=0.01, alpha=0.9, eps=1e-8)
    assert np.abs(ours - theirs).max() < 1e-12


def test_adagrad_torch_eps_placement_on_numpy_arrays_matches_torch(quad):
    h, w0 = quad

    def step(w, g, state, t):
        return adagrad_update(w, g, state[0], lr=0.1, eps=1e-10, eps_inside_sqrt=False)[0]

    ours = _numpy_run(step, h, w0)
    theirs = _torch_run(torch.optim.Adagrad, h, w0, lr=0.1, eps=1e-10)
    assert np.abs(ours - theirs).max() < 1e-12


def test_adam_and_adamw_on_numpy_arrays_match_torch(quad):
    h, w0 = quad
    for ours_fn, torch_cls, kw in (
        (adam_update, torch.optim.Adam, {}),
        (adamw_update, torch.optim.AdamW, {"weight_decay": 0.1}),
    ):

        def step(w, g, state, t, fn=ours_fn, kw=kw):
            return fn(w, g, state[0], state[1], lr=0.01, t=t, **kw)[0]

        ours = _numpy_run(step, h, w0)
        theirs = _torch_run(torch_cls, h, w0, lr=0.01, **kw)
        assert np.abs(ours - theirs).max() < 1e-12, torch_cls.__name__


def test_adam_variant_options_change_exactly_what_they_name():
    w, g = np.array([1.0]), np.array([0.5])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-2
    (plain,), _, _ = adam_update([w], [g], [], [], lr, b1, b2, eps, t=1)
    (no_m,), _, _ = adam_update([w], [g], [], [], lr, b1, b2, eps, t=1, correct_m=False)
    (no_v,), _, _ = adam_update([w], [g], [], [], lr, b1, b2, eps, t=1, correct_v=False)
    (inside,), _, _ = adam_update([w], [g], [], [], lr, b1, b2, eps, t=1, eps_inside_sqrt=True)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    assert plain == pytest.approx(w - lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps))
    assert no_m == pytest.approx(w - lr * m / (np.sqrt(v / (1 - b2)) + eps))
    assert no_v == pytest.approx(w - lr * (m / (1 - b1)) / (np.sqrt(v) + eps))
    assert inside == pytest.approx(w - lr * (m / (1 - b1)) / np.sqrt(v / (1 - b2) + eps))
    assert len({float(plain[0]), float(no_m[0]), float(no_v[0]), float(inside[0])}) == 4


def test_rmsprop_with_bias_correction_is_adam_with_beta1_zero(quad):
    h, w0 = quad

    def rms(w, g, state, t):
        return rmsprop_update(w, g, state[0], lr=0.01, beta2=0.99, t=t, correct_v=True)[0]

    def adam0(w, g, state, t):
        return adam_update(w, g, state[0], state[1], lr=0.01, beta1=0.0, beta2=0.99, t=t)[0]

    assert np.abs(_numpy_run(rms, h, w0) - _numpy_run(adam0, h, w0)).max() < 1e-14


def test_list_functions_do_not_modify_the_callers_arrays(quad):
    h, w0 = quad
    w = w0.copy()
    adam_update([w], [h * w], [], [], lr=0.1, t=1)
    rmsprop_update([w], [h * w], [], lr=0.1)
    adagrad_update([w], [h * w], [], lr=0.1)
    assert np.array_equal(w, w0)


def test_rmsprop_rejects_bad_step_and_beta():
    with pytest.raises(ValueError, match="t = 1"):
        rmsprop_update([np.zeros(2)], [np.ones(2)], [], t=0)
    with pytest.raises(ValueError, match="beta2=1.0"):
        rmsprop_update([np.zeros(2)], [np.ones(2)], [], beta2=1.0)
