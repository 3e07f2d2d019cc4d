"""Tests for course_utils.nb08_rerun: per-image test mistakes of a retrained run, thread reruns."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import nb08_rerun as rerun
from course_utils import nb08_weight_decay as wd
from course_utils.runs import RunConfig, load_data, run_one

TINY = RunConfig(
    optimizer="adamw", lr=4e-3, seed=0, epochs=1, weight_decay=0.25, train_subset=256, n_val=500
)


@pytest.fixture(scope="module")
def data():
    return load_data("cpu")


def test_mistakes_reproduce_the_stored_run_and_are_cached(tmp_path, data):
    stored = run_one(TINY, data=data, progress=False)
    wrong = rerun.test_mistakes(TINY, stored, tmp_path, data=data)
    assert wrong.dtype == bool and wrong.shape == (10_000,)
    assert wrong.mean() == pytest.approx(1 - stored["test"]["acc"], abs=1e-12)
    files = list((tmp_path / "mistakes").glob("*.json"))
    assert [f.stem for f in files] == [TINY.resolved().name]
    again = rerun.test_mistakes(TINY, stored, tmp_path)  # read back, no training
    assert np.array_equal(again, wrong)
    other = {**stored, "test": {**stored["test"], "confusion": [[0] * 10] * 10}}
    with pytest.raises(RuntimeError, match="did not reproduce"):
        rerun.test_mistakes(TINY, other, tmp_path / "fresh", data=data)
    with pytest.raises(ValueError, match="not run"):
        rerun.test_mistakes(TINY, {**stored, "config": {**stored["config"], "seed": 5}}, tmp_path)


def test_thread_configs_and_cell_configs():
    configs = rerun.cell_configs(wd.NOTEBOOK_SPEC, "adamw", 4, 6)  # the extension cell at 1.6e-2
    assert [c.seed for c in configs] == list(wd.NOTEBOOK_SPEC.seeds)
    assert configs[0].weight_decay == pytest.approx(3e-2 / 1.6e-2)
    two = rerun.with_threads(configs, 2)
    assert all(c.threads == 2 and "_t2_" in c.name for c in two)
    assert {c.name for c in two}.isdisjoint(c.name for c in configs)
    with pytest.raises(ValueError, match="does not train"):
        rerun.cell_configs(wd.NOTEBOOK_SPEC, "adamw", 0, 6)
    with pytest.raises(ValueError, match="threads"):
        rerun.with_threads(configs, 0)


@pytest.mark.parametrize("lr", [2e-3, 8e-3])
def test_another_thread_count_moves_a_run_less_than_another_seed(data, lr):
    """The lesson of notebook 08's thread rerun, over seeds and rates: the change from the
    thread count alone is smaller than the seed-to-seed spread of the same cell."""
    base = [
        RunConfig(optimizer="adam", lr=lr, seed=s, epochs=3, train_subset=1000, n_val=2000)
        for s in (0, 1, 2)
    ]
    one = [rerun.final_error(run_one(c, data=data, progress=False)) for c in base]
    two = [
        rerun.final_error(run_one(c, data=data, progress=False))
        for c in rerun.with_threads(base, 2)
    ]
    moved = np.abs(np.subtract(one, two))
    assert moved.max() < np.std(one, ddof=1)
