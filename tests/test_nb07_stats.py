"""Notebook 07's statistics: run records into paired tables, the two-way noise, per-class accuracy."""

import math

import numpy as np
import pytest

from course_utils import nb07_stats as st


def test_pairing_removes_a_shared_seed_effect():
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 1.0, 8)
    a = 0.3 + seed_effect + rng.normal(0, 0.05, 8)
    b = seed_effect + rng.normal(0, 0.05, 8)
    paired = st.paired_difference(a, b)
    assert paired["diff"] == paired["mean"] == pytest.approx(0.3, abs=0.1)
    unpaired_se = math.sqrt(a.var(ddof=1) / 8 + b.var(ddof=1) / 8)
    assert paired["se"] < unpaired_se / 5 and paired["p"] < 1e-4 and paired["df"] == 7


@pytest.mark.parametrize("seed", range(5))
def test_two_way_noise_recovers_the_residual_std(seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 1, (4, 1)) + rng.normal(0, 3, (1, 30)) + rng.normal(0, 0.5, (4, 30))
    sd, df = st.two_way_noise(values)
    assert df == 3 * 29 and sd == pytest.approx(0.5, rel=0.25)  # 3 SE of the estimate


def test_paired_table_refuses_missing_seeds():
    def run(name, seed, acc):
        return {
            "config": {"optimizer": name, "seed": seed, "epochs": 1},
            "history": {"val_acc": [acc]},
        }

    results = [run("sgd", 0, 0.8), run("sgd", 1, 0.9), run("adam", 0, 0.7), run("adam", 1, 0.75)]
    values, seeds = st.paired_table(results, "val_acc", ["sgd", "adam"])
    assert seeds == [0, 1] and values.tolist() == [[0.8, 0.9], [0.7, 0.75]]
    with pytest.raises(ValueError, match="unpaired"):
        st.paired_table(results[:-1], "val_acc", ["sgd", "adam"])


def test_per_class_accuracy():
    confusion = np.diag(np.arange(1, 11) * 10) + 0
    confusion[0, 1] = 10
    acc = st.per_class_accuracy([{"test": {"confusion": confusion.tolist()}}] * 2)
    assert acc[0] == pytest.approx(0.5) and acc[1:].tolist() == [1.0] * 9


def test_early_stopping_picks_the_lowest_validation_loss():
    def run(seed, val_loss, val_acc):
        return {
            "config": {"optimizer": "adam", "seed": seed, "epochs": len(val_loss)},
            "history": {"val_loss": val_loss, "val_acc": val_acc},
        }

    results = [
        run(0, [0.5, 0.3, 0.4], [0.80, 0.86, 0.85]),
        run(1, [0.5, 0.35, 0.45], [0.81, 0.87, 0.84]),
        run(2, [0.6, 0.5, 0.45], [0.80, 0.83, 0.86]),
    ]
    out = st.early_stopping(results, ["adam"])["adam"]
    assert out["epochs"].tolist() == [2, 2, 3]
    assert out["val_acc_stopped"].tolist() == [0.86, 0.87, 0.86]
    assert out["gain"]["mean"] == pytest.approx((0.01 + 0.03 + 0.0) / 3)
    with pytest.raises(ValueError, match="two seeds"):
        st.early_stopping(results[:1], ["adam"])


def test_cross_fitted_stopping_scores_the_epoch_on_the_other_half():
    def run(seed, val_loss, val_acc):
        return {
            "config": {"optimizer": "adam", "seed": seed, "epochs": len(val_loss)},
            "history": {"val_loss": val_loss, "val_acc": val_acc},
        }

    # half A (seeds 0, 1) has its lowest mean loss at epoch 2, half B (seeds 2, 3) at epoch 1
    results = [
        run(0, [0.5, 0.3, 0.4], [0.80, 0.90, 0.84]),
        run(1, [0.5, 0.3, 0.4], [0.82, 0.88, 0.85]),
        run(2, [0.2, 0.3, 0.4], [0.81, 0.86, 0.83]),
        run(3, [0.2, 0.3, 0.4], [0.79, 0.84, 0.86]),
    ]
    out = st.cross_fitted_stopping(results, ["adam"])["adam"]
    assert out["epochs"].tolist() == [2, 1]
    # seeds 0, 1 are scored at half B's epoch 1; seeds 2, 3 at half A's epoch 2
    expected = [0.80 - 0.84, 0.82 - 0.85, 0.86 - 0.83, 0.84 - 0.86]
    assert out["gain"]["mean"] == pytest.approx(np.mean(expected))
    assert out["gain"]["n"] == 4 and out["detectable"] > abs(out["gain"]["mean"])
    # the self-scored estimate is never below the cross-fitted one on these runs
    assert st.early_stopping(results, ["adam"])["adam"]["gain"]["mean"] > out["gain"]["mean"]
    with pytest.raises(ValueError, match="four seeds"):
        st.cross_fitted_stopping(results[:3], ["adam"])
    # on validation accuracy both halves peak at epoch 2
    by_acc = st.cross_fitted_stopping(results, ["adam"], criterion="val_acc")["adam"]
    assert by_acc["epochs"].tolist() == [2, 2]
    expected = [0.90 - 0.84, 0.88 - 0.85, 0.86 - 0.83, 0.84 - 0.86]
    assert by_acc["gain"]["mean"] == pytest.approx(np.mean(expected))
    with pytest.raises(ValueError, match="criterion"):
        st.cross_fitted_stopping(results, ["adam"], criterion="test_acc")


def test_holm_steps_down_and_stops_at_the_first_failure():
    # sorted: 0.001 < 0.05/4, 0.013 < 0.05/3, 0.02 < 0.05/2, 0.06 > 0.05/1
    assert st.holm([0.02, 0.001, 0.06, 0.013]).tolist() == [True, True, False, True]
    # the stored tuned table: 0.006 < 0.05/6, 0.007 < 0.05/5, then 0.022 > 0.05/4 stops
    assert st.holm([0.88, 0.199, 0.007, 0.275, 0.006, 0.022]).tolist() == [False, False, True, False, True, False]
    assert not st.holm([0.04, 0.04]).any() and st.holm([0.02, 0.04]).all()
    with pytest.raises(ValueError, match="probabilities"):
        st.holm([0.5, 1.5])
