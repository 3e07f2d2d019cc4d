"""Training loops and optimizer variants: fused paths match torch's default, histories are sane."""

import math

import pytest
import torch

from course_utils.data import load_fashion_mnist
from course_utils.models import make_mlp
from course_utils.training import evaluate, fit, make_optimizer


@pytest.fixture(scope="module")
def data():
    X_train, y_train, X_test, y_test, _ = load_fashion_mnist()
    return X_train[:1024], y_train[:1024], X_test[:512], y_test[:512]


def train_steps(name, variant, X, y, steps=40, **kw):
    model = make_mlp(0)
    opt = make_optimizer(name, model.parameters(), variant=variant, **kw)
    for i in range(steps):
        idx = slice((i * 64) % len(X), (i * 64) % len(X) + 64)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def maxdiff(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a, b))


CASES = [
    ("sgd", {}),
    ("adagrad", {}),
    ("adam", {}),
    ("adam", {"weight_decay": 1e-2}),  # Adam + L2
    ("adamw", {}),
    ("adamw", {"weight_decay": 1e-2}),
]


@pytest.mark.parametrize("name, kw", CASES)
def test_fused_matches_default_implementation(data, name, kw):
    X, y, _, _ = data
    fused = make_optimizer(name, make_mlp(0).parameters(), variant="fused", **kw)
    assert fused.defaults.get("fused") is True
    diff = maxdiff(train_steps(name, "fused", X, y, **kw), train_steps(name, "torch", X, y, **kw))
    print(f"{name} {kw}: fused vs default maxdiff {diff:.2e}")
    assert diff < 1e-5


@pytest.mark.parametrize("name, kw", [c for c in CASES if c[0] != "sgd"])
def test_from_scratch_matches_torch(data, name, kw):
    X, y, _, _ = data
    if name == "adagrad" and kw:
        pytest.skip("CourseAdagrad has no weight decay")
    diff = maxdiff(train_steps(name, "course", X, y, **kw), train_steps(name, "torch", X, y, **kw))
    assert diff < 1e-5


def test_course_hyperparameters_and_overrides():
    params = make_mlp(0).parameters()
    sgd = make_optimizer("sgd", params)
    assert (sgd.defaults["lr"], sgd.defaults["momentum"], sgd.defaults["weight_decay"]) == (
        0.01,
        0.9,
        1e-4,
    )
    adamw = make_optimizer("adamw", make_mlp(0).parameters(), lr=3e-4)
    assert adamw.defaults["lr"] == 3e-4 and adamw.defaults["weight_decay"] == 1e-4
    assert adamw.defaults["betas"] == (0.9, 0.999) and adamw.defaults["eps"] == 1e-8
    with pytest.raises(ValueError, match="Unknown optimizer"):
        make_optimizer("rmsprop", make_mlp(0).parameters())
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("adam", make_mlp(0).parameters(), lr=0.0)
    with pytest.raises(ValueError, match="no from-scratch SGD"):
        make_optimizer("sgd", make_mlp(0).parameters(), variant="course")


def test_fit_history_is_per_epoch_and_seeded(data):
    X, y, Xv, yv = data
    runs = []
    for _ in range(2):
        model = make_mlp(0)
        opt = make_optimizer("adam", model.parameters())
        runs.append(fit(model, opt, X, y, Xv, yv, epochs=2, seed=3, progress=False))
    h = runs[0]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time"):
        assert len(h[key]) == 2
    assert h["train_loss"] == runs[1]["train_loss"] and h["val_acc"] == runs[1]["val_acc"]
    assert h["train_loss"][1] < h["train_loss"][0] < math.log(10) + 0.1
    assert all(0 <= a <= 1 for a in h["train_acc"] + h["val_acc"])
    assert all(t > 0 for t in h["epoch_time"])
    assert h["diverged"] is False
    # the stored validation metrics are those of the final model
    assert evaluate(model, Xv, yv) == (h["val_loss"][-1], h["val_acc"][-1])


def test_evaluate_counts_exactly():
    X = torch.zeros(6, 1, 28, 28)
    y = torch.tensor([0, 1, 0, 0, 1, 2])
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 3))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    loss, acc = evaluate(model, X, y, batch_size=4)
    assert acc == pytest.approx(3 / 6)
    expected = torch.nn.functional.cross_entropy(model(X), y).item()
    assert loss == pytest.approx(expected, rel=1e-6)


def test_divergence_stops_training(data):
    X, y, Xv, yv = data
    model = make_mlp(0)
    opt = make_optimizer("sgd", model.parameters(), lr=1e6)
    h = fit(model, opt, X, y, Xv, yv, epochs=5, progress=False)
    assert h["diverged"] is True
    assert len(h["train_loss"]) < 5


def test_step_losses_recorded(data):
    X, y, Xv, yv = data
    model = make_mlp(0)
    opt = make_optimizer("adagrad", model.parameters())
    h = fit(model, opt, X, y, Xv, yv, epochs=1, progress=False, record_steps=True)
    assert len(h["step_loss"]) == 1024 // 128
    assert sum(h["step_loss"]) / 8 == pytest.approx(h["train_loss"][0], rel=1e-5)


def test_fit_rejects_bad_epochs(data):
    X, y, Xv, yv = data
    model = make_mlp(0)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, make_optimizer("adam", model.parameters()), X, y, Xv, yv, epochs=0)


def test_fused_falls_back_when_torch_has_no_fused_kernel(monkeypatch):
    params = list(make_mlp(0).parameters())
    assert make_optimizer("adagrad", params).defaults["fused"] is True

    class NoFusedAdagrad(torch.optim.Adagrad):
        def __init__(self, params, **kw):
            if kw.get("fused"):
                raise RuntimeError(
                    "`fused=True` requires all the params to be on a supported device"
                )
            super().__init__(params, **kw)

    monkeypatch.setattr(torch.optim, "Adagrad", NoFusedAdagrad)
    opt = make_optimizer("adagrad", params)
    assert isinstance(opt, NoFusedAdagrad) and not opt.defaults.get("fused")


def test_confusion_matrix_counts_every_image():
    from course_utils.training import confusion_matrix

    X = torch.randn(300, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (300,), generator=torch.Generator().manual_seed(1))
    out = confusion_matrix(make_mlp(0), X, y, batch_size=128)
    counts = torch.tensor(out["confusion"])
    assert (
        counts.sum() == 300
        and counts.sum(dim=1).tolist() == torch.bincount(y, minlength=10).tolist()
    )
    assert out["acc"] == pytest.approx(evaluate(make_mlp(0), X, y)[1])
    assert out["loss"] == pytest.approx(evaluate(make_mlp(0), X, y)[0])


def reference_train_epoch(model, optimizer, X, y, batch_size, generator, scheduler, step_losses):
    """The training loop as it was before the batches were gathered with ``index_select`` and
    the bookkeeping was added up once per epoch (copied verbatim, timing removed): the
    reference that ``train_epoch`` must reproduce bit for bit."""
    from course_utils.data import iterate_minibatches

    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    loss_sum = torch.zeros((), dtype=torch.float64, device=X.device)
    correct = torch.zeros((), dtype=torch.int64, device=X.device)
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=True, generator=generator):
        logits = model(xb)
        loss = loss_fn(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        batch_loss = loss.detach()
        loss_sum += batch_loss * len(yb)
        correct += (logits.detach().argmax(dim=1) == yb).sum()
        if step_losses is not None:
            step_losses.append(batch_loss.item())
    return loss_sum.item() / len(y), correct.item() / len(y)


def _state_tensors(optimizer):
    return [v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v)]


@pytest.mark.parametrize(
    "name, variant, batch_size, with_scheduler",
    [
        ("sgd", "fused", 128, False),
        ("adagrad", "fused", 128, False),
        ("adam", "fused", 128, True),
        ("adamw", "fused", 100, False),
        ("adam", "course", 128, False),
        ("adamw", "torch", 1000, True),
    ],
)
def test_train_epoch_is_bit_identical_to_the_reference_loop(
    data, name, variant, batch_size, with_scheduler
):
    from course_utils.training import train_epoch

    X, y = data[0][:1000], data[1][:1000]  # the last batch is partial for batch sizes 128 and 100
    runs = []
    for loop in (reference_train_epoch, train_epoch):
        model = make_mlp(0)
        opt = make_optimizer(name, model.parameters(), variant=variant)
        sched = torch.optim.lr_scheduler.StepLR(opt, 3, 0.5) if with_scheduler else None
        gen = torch.Generator().manual_seed(5)
        steps: list[float] = []
        history = [loop(model, opt, X, y, batch_size, gen, sched, steps) for _ in range(2)]
        runs.append((list(model.parameters()), _state_tensors(opt), history, steps))
    (w_ref, s_ref, h_ref, l_ref), (w_new, s_new, h_new, l_new) = runs
    assert len(w_ref) == len(w_new) == 6 and len(s_ref) == len(s_new) > 0
    for a, b in zip(w_ref + s_ref, w_new + s_new):
        assert torch.equal(a, b), f"{name}: a weight or optimizer state differs"
    assert h_new == h_ref and l_new == l_ref  # running loss/accuracy and step losses, exactly
    assert len(l_new) == 2 * -(-1000 // batch_size)


def test_train_epoch_calls_an_optimizers_own_zero_grad(data):
    from course_utils.training import train_epoch

    calls = []

    class CountingSGD(torch.optim.SGD):
        def zero_grad(self, set_to_none=True):
            calls.append(set_to_none)
            super().zero_grad(set_to_none)

    model = make_mlp(0)
    train_epoch(model, CountingSGD(model.parameters(), lr=0.01), data[0][:300], data[1][:300])
    assert calls == [True, True, True]


def test_train_epoch_rejects_mismatched_or_empty_data():
    from course_utils.training import train_epoch

    model = make_mlp(0)
    opt = make_optimizer("sgd", model.parameters())
    with pytest.raises(ValueError, match="rows"):
        train_epoch(model, opt, torch.zeros(3, 1, 28, 28), torch.zeros(4, dtype=torch.int64))
    with pytest.raises(ValueError, match="empty"):
        train_epoch(model, opt, torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.int64))
