"""Notebook 10 on Fashion-MNIST: sign descent, Muon + AdamW and AdamW on the course MLP.

* `train`: one cached run of a contender (``adamw``, ``muon+adamw``, ``adamw-2lr``, ``adam``,
  ``signsgd``, ``signum``) with given hyperparameters and seed, on a training subset with held-out
  validation images; the test set is evaluated once, after the last epoch;
* `random_search` and `confirm`: notebook 09's tuning rules for every contender: the same number
  of quasi-random (Halton) trials, log-uniform over each contender's box (two hyperparameters
  each), the points shifted by a fixed offset per contender, scored by the last epoch's
  validation accuracy; the winner re-run on fresh, paired seeds (the same initial network and
  batch order for both contenders);
* `rate_scan`: one hyperparameter of a winner moved, e.g. beyond the edge of its box, scored as
  the search scores;
* `time_optimizer_steps`: the seconds of one ``optimizer.step()`` per contender, interleaved
  repeats, minimum and spread.

Muon (``course_utils.optimizers.CourseMuon``) takes the two hidden weight matrices
(784 x 256 and 256 x 128 maps); AdamW takes the biases and the output layer, the usual recipe.
``adamw-2lr`` is its control: the same split and the same two learning rates, with AdamW in
Muon's place, so that the hybrid's second learning rate is not what sets it apart from AdamW.
Results are JSON files under ``results/10_beyond_adamw`` (one per run), so a rerun is instant.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import torch

from course_utils.cli import limit_threads
from course_utils.data import holdout_split, load_fashion_mnist
from course_utils.models import make_mlp
from course_utils.nb09_trials import halton
from course_utils.optimizers import CourseMuon, CourseSignDescent
from course_utils.paths import results_dir
from course_utils.plotting import OPTIMIZER_COLORS
from course_utils.runs import write_result
from course_utils.training import confusion_matrix, fit

CONTENDERS = ("adamw", "muon+adamw", "adamw-2lr", "adam", "signsgd", "signum")
# Sizes: "small" runs in the notebook; "full" is the whole study (python -m course_utils.nb10_fashion).
SIZES = {
    "small": dict(train_subset=5000, n_val=5000, epochs=3, trials=6, seeds=(1, 2, 3, 4)),
    "full": dict(train_subset=None, n_val=10000, epochs=20, trials=24, seeds=tuple(range(1, 9))),
}
# Each tuned contender's box: two hyperparameters, drawn log-uniformly.
SEARCH_BOXES = {
    "adamw": {"lr": (1e-4, 1e-2), "weight_decay": (1e-5, 1e-1)},
    "muon+adamw": {"lr": (2e-3, 2e-1), "adamw_lr": (1e-4, 1e-2)},
    # The control: "lr" for the hidden matrices, "adamw_lr" for the rest, as in the hybrid.
    "adamw-2lr": {"lr": (1e-4, 1e-2), "adamw_lr": (1e-4, 1e-2)},
}
SUBSET_SEED = 1234
SEARCH_SEED = 0  # the network and batch order of every search trial (confirmation seeds differ)


class MuonWithAdamW:
    """Muon for the hidden weight matrices, AdamW (torch.optim) for the rest: one step() for both."""

    def __init__(self, model, lr=0.02, adamw_lr=1e-3, momentum=0.95, ns_steps=5, weight_decay=0.0):
        hidden, rest = hidden_and_rest(model)
        self.muon = CourseMuon(hidden, lr=lr, momentum=momentum, ns_steps=ns_steps,
                               weight_decay=weight_decay)
        self.adamw = torch.optim.AdamW(rest, lr=adamw_lr, weight_decay=weight_decay)
        self.param_groups = self.muon.param_groups + self.adamw.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.muon.zero_grad(set_to_none)
        self.adamw.zero_grad(set_to_none)

    def step(self) -> None:
        self.muon.step()
        self.adamw.step()


def hidden_and_rest(model) -> tuple[list, list]:
    """(the weight matrices of every Linear layer but the last, every other parameter)."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    hidden = [m.weight for m in linears[:-1]]
    ids = {id(p) for p in hidden}
    return hidden, [p for p in model.parameters() if id(p) not in ids]


def two_rate_adamw(model, lr: float, adamw_lr: float, weight_decay: float = 0.0):
    """AdamW with rate ``lr`` for the hidden weight matrices and ``adamw_lr`` for the rest.

    The parameter split and the two rates of `MuonWithAdamW`, with AdamW in Muon's place.
    """
    hidden, rest = hidden_and_rest(model)
    return torch.optim.AdamW([{"params": hidden, "lr": lr}, {"params": rest, "lr": adamw_lr}],
                             lr=lr, weight_decay=weight_decay)


def make_contender(name: str, model, hp: dict):
    """The optimizer ``name`` for ``model`` with hyperparameters ``hp`` (see `SEARCH_BOXES`)."""
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    if name == "muon+adamw":
        return MuonWithAdamW(model, lr=hp["lr"], adamw_lr=hp["adamw_lr"])
    if name == "adamw-2lr":
        return two_rate_adamw(model, lr=hp["lr"], adamw_lr=hp["adamw_lr"])
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=hp["lr"])
    if name in ("signsgd", "signum"):
        return CourseSignDescent(model.parameters(), lr=hp["lr"],
                                 momentum=0.0 if name == "signsgd" else 0.9)
    raise ValueError(f"Unknown contender {name!r}: choose one of {', '.join(CONTENDERS)}.")


_DATA: dict = {}


def fashion_data(train_subset: int | None, n_val: int) -> dict:
    """Training subset, held-out validation images and the test set, cut once and cached."""
    key = (train_subset, n_val)
    if key not in _DATA:
        X, y, X_test, y_test, _ = load_fashion_mnist()
        pool, val = holdout_split(len(X), n_val)
        if train_subset is not None:
            order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(SUBSET_SEED))
            pool = pool[order[:train_subset].sort().values]
        _DATA[key] = {"train": (X[pool], y[pool]), "val": (X[val], y[val]), "test": (X_test, y_test)}
    return _DATA[key]


def _run_name(name: str, hp: dict, seed: int, size: dict) -> str:
    hps = "_".join(f"{k}{v:.6g}" for k, v in sorted(hp.items()))
    return (f"{name}_{hps}_n{size['train_subset']}_val{size['n_val']}_e{size['epochs']}"
            f"_torch{torch.__version__.split('+')[0]}_seed{seed}")


def train(name: str, hp: dict, seed: int, size: str | dict = "small", force: bool = False) -> dict:
    """One run: {"history", "test", "name"}; read from its JSON file when it exists."""
    size = SIZES[size] if isinstance(size, str) else size
    path = results_dir("10_beyond_adamw") / f"{_run_name(name, hp, seed, size)}.json"
    if path.exists() and not force:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    data = fashion_data(size["train_subset"], size["n_val"])
    with limit_threads(1):
        model = make_mlp(seed)
        optimizer = make_contender(name, model, hp)
        history = fit(model, optimizer, *data["train"], *data["val"], epochs=size["epochs"],
                      seed=seed, progress=False)
        test = confusion_matrix(model, *data["test"])
    result = {"name": name, "hp": hp, "seed": seed, "history": history,
              "test": {"loss": test["loss"], "acc": test["acc"]}}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_result(path, result)
    return result


def final_val_acc(result: dict) -> float:
    """The last epoch's validation accuracy (0 for a diverged run)."""
    acc = result["history"]["val_acc"][-1]
    return 0.0 if acc is None or not math.isfinite(acc) or result["history"].get("diverged") else acc


def sample_box(box: dict, trials: int, shift: float = 0.0) -> list[dict]:
    """``trials`` quasi-random points of ``box`` ({name: (low, high)}), log-uniform, 3 digits.

    Notebook 09's rule: the Halton sequence (skipping its first point), shifted by ``shift``
    modulo 1 so that two contenders do not share the very same quantiles.
    """
    u = (halton(trials, len(box)) + shift) % 1.0
    return [
        {k: float(f"{10 ** (np.log10(lo) + x * (np.log10(hi) - np.log10(lo))):.3g}")
         for (k, (lo, hi)), x in zip(box.items(), row)}
        for row in u
    ]


def random_search(name: str, size: str | dict = "small", search_seed: int = SEARCH_SEED) -> dict:
    """Equal-budget random search: {"trials": [(hp, val_acc)], "best": hp, "best_acc": float}.

    Every trial trains with the network and batch order of ``search_seed``.
    """
    spec = SIZES[size] if isinstance(size, str) else size
    shift = (list(SEARCH_BOXES).index(name) + 1) * 0.1234  # notebook 09's per-method offset
    trials = [(hp, final_val_acc(train(name, hp, search_seed, spec)))
              for hp in sample_box(SEARCH_BOXES[name], spec["trials"], shift)]
    best_hp, best_acc = max(trials, key=lambda t: t[1])
    return {"trials": trials, "best": best_hp, "best_acc": best_acc}


def rate_scan(name: str, hp: dict, key: str, values, size: str | dict = "small",
              seed: int = SEARCH_SEED) -> dict:
    """{value: last validation accuracy} of ``name`` with ``hp`` but ``hp[key]`` set to each value.

    Scored as `random_search` scores (on ``seed``, the search seed by default): for checking
    whether a winner at the edge of its box would have done better beyond it.
    """
    spec = SIZES[size] if isinstance(size, str) else size
    return {v: final_val_acc(train(name, {**hp, key: v}, seed, spec)) for v in values}


def confirm(name: str, hp: dict, size: str | dict = "small") -> dict:
    """The tuned ``hp`` re-run on the size's confirmation seeds: arrays of val and test accuracy.

    ``val_curves`` holds the validation accuracy after every epoch, one row per seed.
    """
    spec = SIZES[size] if isinstance(size, str) else size
    runs = [train(name, hp, seed, spec) for seed in spec["seeds"]]
    return {"val_acc": np.array([final_val_acc(r) for r in runs]),
            "test_acc": np.array([r["test"]["acc"] for r in runs]),
            "val_curves": np.array([r["history"]["val_acc"] for r in runs])}


# How the tuned contenders are named and drawn in the notebook: (label, color, line style, marker).
CONTENDER_STYLES = {
    "muon+adamw": ("Muon + AdamW", "#2ca02c", "-", "o"),
    "adamw": ("AdamW (rate, decay)", OPTIMIZER_COLORS["adamw"], "-", "s"),
    "adamw-2lr": ("AdamW, two rates (hidden matrices, rest)", "#ff7f0e", "--", "^"),
}


def plot_val_curves(ax, tuned: dict):
    """Validation accuracy (%) after every epoch of `confirm` results: thin lines one seed, thick the mean."""
    for name, result in tuned.items():
        label, color, style, marker = CONTENDER_STYLES[name]
        curves = 100 * np.asarray(result["val_curves"])
        epochs = np.arange(1, curves.shape[1] + 1)
        ax.plot(epochs, curves.T, style, color=color, lw=0.8, alpha=0.45)
        ax.plot(epochs, curves.mean(axis=0), style, color=color, lw=2.4, marker=marker, ms=7,
                label=f"{label}, mean of {len(curves)} seeds")
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)", xticks=epochs)
    ax.set_title("Tuned winners on fresh seeds: thin lines one seed each", y=1.0)
    ax.legend(loc="lower right", fontsize=9)
    return ax


def lr_grid_study(names, lrs: dict, size: str = "small", seeds=(SEARCH_SEED,)) -> dict:
    """{name: {lr: array over seeds of the last validation accuracy}} for learning-rate-only contenders."""
    return {name: {lr: np.array([final_val_acc(train(name, {"lr": lr}, s, size)) for s in seeds])
                   for lr in lrs[name]} for name in names}


def time_optimizer_steps(hp: dict, repeats: int = 7, steps: int = 5, seed: int = 0) -> dict:
    """Seconds per ``optimizer.step()`` on the course MLP: {name: (min, median)} over repeats.

    The contenders take turns (interleaved), so a change of machine load hits both; the
    minimum is the least disturbed measurement. One thread, one fixed batch of 128 images.
    "forward + backward" times the loss and gradient computation of that batch, for scale.
    """
    X, y, *_ = load_fashion_mnist()
    xb, yb = X[:128], y[:128]
    times: dict = {name: [] for name in (*hp, "forward + backward")}
    with limit_threads(1):
        setups = {}
        for name, h in hp.items():
            model = make_mlp(seed)
            opt = make_contender(name, model, h)
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            setups[name] = opt.step

        def forward_backward():
            model.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()

        setups["forward + backward"] = forward_backward
        for _ in range(repeats):
            for name, fn in setups.items():
                start = time.perf_counter()
                for _ in range(steps):
                    fn()
                times[name].append((time.perf_counter() - start) / steps)
    return {name: (float(np.min(t)), float(np.median(t))) for name, t in times.items()}


def main(argv=None) -> int:
    """Command line: the tuned comparison at a size, e.g. ``--size full``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    args = parser.parse_args(argv)
    from course_utils import stats

    tuned = {name: random_search(name, args.size) for name in SEARCH_BOXES}
    results = {}
    for name, search in tuned.items():
        results[name] = result = confirm(name, search["best"], args.size)
        print(f"{name:11s} best {search['best']}: validation accuracy "
              f"{result['val_acc'].mean():.4f}, test accuracy {result['test_acc'].mean():.4f} "
              f"over seeds {SIZES[args.size]['seeds']}")
    for a_name, b_name in (("muon+adamw", "adamw"), ("muon+adamw", "adamw-2lr"), ("adamw-2lr", "adamw")):
        a, b = results[a_name]["test_acc"], results[b_name]["test_acc"]
        d = stats.paired_difference(a, b)
        sd_diff = float(stats.method_noise(np.stack([a, b]))["sd_diff"][0, 1])
        print(f"{a_name} - {b_name}, test accuracy: {100 * d['mean']:+.2f} points, SE {100 * d['se']:.2f}, "
              f"95% CI [{100 * d['ci_low']:+.2f}, {100 * d['ci_high']:+.2f}]; with {len(a)} paired seeds "
              f"the design detects {100 * stats.detectable_difference(sd_diff, len(a)):.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
