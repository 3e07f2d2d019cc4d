"""Notebook 07's figures: learning curves, cost per epoch, the sweep, per-class accuracy, overlays.

Each function takes results (or a summary of them) and an optional ``fig``, and returns the
matplotlib figure; the notebook shows it and saves it with ``plotting.save_figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.nb07_experiment import group_results, implementation_gaps
from course_utils.plotting import OPTIMIZER_COLORS, log_axis


def _color(label: str):
    return OPTIMIZER_COLORS.get(label.split()[0])


# AdamW with the course's tiny decay draws practically Adam's curve: dashed on top of a wider
# solid Adam line, both stay visible.
_LINE = {"adamw": dict(ls=(0, (4, 3)), lw=1.8, zorder=4), "adam": dict(lw=3.2, zorder=3)}


def _line(label: str) -> dict:
    return _LINE.get(label.split()[0], {})


def _stack(group: list[dict], key: str) -> np.ndarray:
    n = max(len(r["history"][key]) for r in group)
    out = np.full((len(group), n), np.nan)
    for i, r in enumerate(group):
        out[i, : len(r["history"][key])] = r["history"][key]
    return out


def _legend(label: str, group: list[dict]) -> str:
    """Group label plus the hyperparameters it does not already name, and the seed count."""
    cfg = group[0]["config"]
    extra = []
    if "lr=" not in label:
        extra.append(f"lr={cfg['lr']:g}")
    if "weight_decay=" not in label and cfg["weight_decay"]:
        extra.append(f"wd={cfg['weight_decay']:g}")
    seeds = f"{len(group)} seeds" if len(group) > 1 else "1 seed"
    return f"{label} ({', '.join(extra + [seeds])})"


def plot_comparison(results: Sequence[dict], by: Sequence[str] | None = None, fig=None):
    """2x2 panels (train/val loss, train/val accuracy vs epoch): seed mean and min-max band."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if fig is None:
        fig = plt.figure(figsize=(12, 8.5))
    axes = fig.subplots(2, 2, sharex=True)
    panels = [
        ("train_loss", "training loss", axes[0, 0]),
        ("val_loss", "validation loss", axes[0, 1]),
        ("train_acc", "training accuracy", axes[1, 0]),
        ("val_acc", "validation accuracy", axes[1, 1]),
    ]
    groups = group_results(results, by)
    for key, title, ax in panels:
        for label, group in groups.items():
            values = _stack(group, key)
            epochs = np.arange(1, values.shape[1] + 1)
            color = _color(label)
            mean = np.nanmean(values, axis=0)
            ax.plot(epochs, mean, color=color, label=_legend(label, group), **_line(label))
            if len(group) > 1:
                ax.fill_between(
                    epochs,
                    np.nanmin(values, axis=0),
                    np.nanmax(values, axis=0),
                    color=color,
                    alpha=0.2,
                    lw=0,
                )
        ax.set_title(title)
        ax.set_ylabel("accuracy" if "acc" in key else "cross-entropy loss")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 1].legend(loc="upper right")
    fig.suptitle("Fashion-MNIST MLP: mean over seeds, band = min to max")
    fig.tight_layout()
    return fig


def plot_timing(timing: dict, fig=None):
    """Seconds per epoch, interleaved in one process: every repeat, and paired differences.

    Left: every repeat's whole epoch, training part and ``optimizer.step()`` per optimizer (one
    dot each), the median as a bar across the dots. Right: each repeat's training part and step
    minus SGD's *in the same repeat* (`paired_cost`), and AdamW minus Adam, labelled with the
    median step difference and its range over the repeats. The title names the device, threads
    and torch version.
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(11.5, 4.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    names = list(timing["epoch"])
    parts = (("epoch", "whole epoch", "o", 0.35), ("train", "training", "o", 1.0))
    offsets = {"epoch": -0.25, "train": 0.0, "step": 0.25}
    spread = np.linspace(-0.06, 0.06, len(timing["epoch"][names[0]]))

    def dots(ax, x, values, color, marker, alpha, label=None, hollow=False):
        values = np.asarray(values)
        face = "white" if hollow else color
        if label:  # legend entries in grey: the colours stand for the optimizers
            ax.scatter(
                [],
                [],
                s=22,
                marker=marker,
                color="white" if hollow else "0.45",
                ec="0.45",
                alpha=alpha,
                lw=1.2,
                label=label,
            )
        ax.scatter(
            x + spread[: len(values)],
            values,
            s=22,
            marker=marker,
            color=face,
            ec=color,
            alpha=alpha,
            lw=1.2,
            zorder=3,
        )
        ax.plot([x - 0.1, x + 0.1], [np.median(values)] * 2, color="black", lw=2, zorder=4)

    for i, name in enumerate(names):
        color = _color(name)
        for part, label, marker, alpha in parts:
            dots(
                left,
                i + offsets[part],
                timing[part][name],
                color,
                marker,
                alpha,
                label=f"{label} (one dot per repeat)" if i == 0 else None,
            )
        dots(
            left,
            i + offsets["step"],
            timing["step"][name],
            color,
            "D",
            1.0,
            label="optimizer.step()" if i == 0 else None,
            hollow=True,
        )
    left.plot([], [], color="black", lw=2, label="median of the repeats")
    left.set_xticks(range(len(names)), names)
    left.grid(axis="x", visible=False)
    left.set_ylim(0, 1.35 * max(max(v) for v in timing["epoch"].values()))
    left.set_ylabel("seconds per epoch")
    left.set_title("every repeat", fontsize=11)
    left.legend(loc="upper left", fontsize=8.5, ncol=2, framealpha=0.9)

    # paired differences: minus SGD in the same repeat, and AdamW minus Adam
    pairs = [(n, "sgd") for n in names if n != "sgd" and "sgd" in names]
    if "adam" in names and "adamw" in names:
        pairs.append(("adamw", "adam"))
    labels = []
    for i, (a, b) in enumerate(pairs):
        color = _color(a)
        train_d = np.subtract(timing["train"][a], timing["train"][b])
        step_d = np.subtract(timing["step"][a], timing["step"][b])
        dots(
            right,
            i - 0.15,
            train_d,
            color,
            "o",
            1.0,
            label="training part (one dot per repeat)" if i == 0 else None,
        )
        dots(
            right,
            i + 0.15,
            step_d,
            color,
            "D",
            1.0,
            label="optimizer.step()" if i == 0 else None,
            hollow=True,
        )
        right.annotate(
            f"step {np.median(step_d):+.3f} s\n({step_d.min():+.3f} to {step_d.max():+.3f})",
            (i + 0.15, max(train_d.max(), step_d.max())),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            va="bottom",
            fontsize=8.5,
        )
        labels.append(f"{a}\nminus {b}")
    right.axhline(0, color="0.3", lw=1, zorder=1)
    right.set_xticks(range(len(pairs)), labels)
    right.grid(axis="x", visible=False)
    low, high = right.get_ylim()
    right.set_ylim(low, high + 0.3 * (high - low))
    right.set_ylabel("seconds per epoch, same repeat")
    right.set_title("paired: minus the other optimizer in the same repeat", fontsize=11)
    right.legend(loc="upper left", fontsize=8.5, framealpha=0.9)

    key = timing["key"]
    fig.suptitle(
        f"{key['repeats']} interleaved repeats | {key['device_name']}, {key['threads']} "
        f"thread(s), torch {key['torch']}, {key['n_train']:,} images",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def plot_lr_sweep(
    table: dict[str, dict[float, np.ndarray]], course_lr: dict, epochs: int, fig=None
):
    """Validation accuracy vs learning rate (log axis): seed mean, band = min to max over seeds.

    ``table[name][lr]`` holds one value per seed; stars mark ``course_lr[name]``, diamonds the
    best mean rate.
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(8.5, 5))
    ax = fig.subplots()
    n_seeds = 0
    for k, (name, by_lr) in enumerate(table.items()):
        lrs = sorted(by_lr)
        values = np.array([by_lr[lr] for lr in lrs])
        n_seeds = values.shape[1]
        mean = values.mean(axis=1)
        color = _color(name)
        # A small horizontal offset per optimizer keeps markers of equal rates apart.
        xs = np.array(lrs) * 10 ** (0.02 * (k - 1.5))
        ax.plot(xs, mean, "o-", color=color, label=name)
        ax.fill_between(xs, values.min(axis=1), values.max(axis=1), color=color, alpha=0.18, lw=0)
        i = lrs.index(course_lr[name])
        ax.plot([xs[i]], [mean[i]], "*", color=color, ms=17, mec="black", zorder=5)
        j = int(np.argmax(mean))
        ax.plot([xs[j]], [mean[j]], "D", color=color, ms=8, mec="black", zorder=5)
    log_axis(ax, "x")
    ax.set_xlabel("learning rate α (log scale)")
    ax.set_ylabel(f"validation accuracy after {epochs} epochs")
    ax.set_title(
        f"Sweep on held-out validation images: mean of {n_seeds} seeds, band = min to max\n"
        "★ = course's rate, ◆ = best mean rate",
        fontsize=11,
    )
    ax.legend(loc="lower center")
    fig.tight_layout()
    return fig


def plot_per_class(accuracy: dict[str, np.ndarray], confusion: np.ndarray, class_names, fig=None):
    """Left: confusion matrix of all runs (row %, true class down). Right: test accuracy per class."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(14, 5.6))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    rows = confusion / confusion.sum(axis=1, keepdims=True) * 100
    left.imshow(rows, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            if rows[i, j] >= 0.5:
                color = "white" if rows[i, j] > 60 else "black"
                left.text(
                    j, i, f"{rows[i, j]:.0f}", ha="center", va="center", fontsize=8, color=color
                )
    left.set_xticks(range(len(class_names)), class_names, rotation=60, ha="right")
    left.set_yticks(range(len(class_names)), class_names)
    left.set_xlabel("predicted class")
    left.set_ylabel("true class")
    left.grid(False)
    left.set_title("confusion matrix, all runs pooled (% of each true class)", fontsize=11)
    y = np.arange(len(class_names))
    h = 0.8 / len(accuracy)
    for k, (name, acc) in enumerate(accuracy.items()):
        right.barh(
            y + (k - (len(accuracy) - 1) / 2) * h, 100 * acc, h, color=_color(name), label=name
        )
    right.set_yticks(y, class_names)
    right.invert_yaxis()
    right.set_xlim(50, 100)
    right.set_xlabel("test accuracy of the class (%), seeds pooled")
    right.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    right.set_title("per-class test accuracy", fontsize=11)
    fig.tight_layout()
    return fig


def plot_implementations(comparison: dict[str, dict[str, dict]], fig=None):
    """One panel per optimizer: mini-batch loss of torch.optim (wide) and from scratch (dashed)."""
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(13, 4.5))
    axes = np.atleast_1d(fig.subplots(1, len(comparison), sharey=True))
    gaps = implementation_gaps(comparison)
    for ax, (name, pair) in zip(axes, comparison.items()):
        color = _color(name)
        steps = np.arange(1, len(pair["torch"]["step_loss"]) + 1)
        ax.plot(
            steps, pair["torch"]["step_loss"], color=color, lw=5, alpha=0.4, label="torch.optim"
        )
        ax.plot(steps, pair["course"]["step_loss"], "--", color="black", lw=1, label="from scratch")
        if "course formula" in pair:
            ax.plot(
                steps,
                pair["course formula"]["step_loss"],
                ":",
                color="#ff7f0e",
                lw=1.8,
                zorder=5,
                label="course formula √(G+ε)",
            )
        ax.set_title(f"{name}: max |Δ loss| = {gaps[name]['step_loss']:.0e}")
        log_axis(ax, "x")
        ax.set_xlabel("mini-batch step (log scale)")
        ax.legend(loc="lower left")
    axes[0].set_ylabel("mini-batch training loss")
    axes[0].set_ylim(bottom=0)
    fig.tight_layout()
    return fig
