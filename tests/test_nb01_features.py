"""Notebook 01's feature-scaling example on real Fashion-MNIST features."""

import numpy as np
import pytest

from course_utils import nb01_features as feat
from course_utils.data import load_fashion_mnist
from course_utils.optimizers import adagrad_update


@pytest.fixture(scope="module")
def images():
    X, y, *_ = load_fashion_mnist()
    return X[:6000], y[:6000].numpy()


def _problem(images, start):
    X, y = images
    F = feat.block_features(X[start:], n=2000)
    return F, (y[start : start + 2000] == feat.TROUSER).astype(float)


def test_features_are_standardised(images):
    F, t = _problem(images, 0)
    assert F.shape == (2000, 16) and 0 < t.mean() < 0.2
    np.testing.assert_allclose(F.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(F.std(axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize("start", [0, 2000, 4000])
@pytest.mark.parametrize("feature", [0, 5, 10])
def test_kappa_grows_like_the_square_of_the_scale(images, start, feature):
    F, t = _problem(images, start)
    k = [
        feat.condition_number(feat.scaled_problem(F, t, s, feature)[0]) for s in (1, 10, 100, 1000)
    ]
    assert 100 < k[0] < 1000
    for a, b in zip(k[1:], k[2:]):
        assert 80 < b / a < 120  # x10 in scale, x100 in kappa


@pytest.mark.parametrize("start", [0, 2000, 4000])
def test_gd_suffers_standardising_and_adagrad_help(images, start):
    F, t = _problem(images, start)
    study = feat.feature_scaling_study(F, t, scales=(1.0, 100.0), steps=300)
    gd1, gd100 = study[1.0]["gd"][-1], study[100.0]["gd"][-1]
    ada1, ada100 = study[1.0]["adagrad"][-1], study[100.0]["adagrad"][-1]
    assert gd100 > 100 * gd1 and gd100 > 0.5  # even horizon-tuned GD hardly moves at scale 100
    assert ada100 < 0.2 * gd100  # Adagrad absorbs most of the change of units
    assert ada100 > 5 * gd1  # standardising is still better
    assert gd1 < 0.6 * ada1  # and on standardised features tuned GD beats tuned Adagrad
    for r in study.values():  # both tuned inside their grids' useful range
        assert r["adagrad_lr"] not in (feat.ADAGRAD_LR_GRID[0], feat.ADAGRAD_LR_GRID[-1])
        assert r["gd"][-1] <= r["gd_asymptotic"][-1]  # tuning for the horizon never loses


@pytest.mark.parametrize("start", [0, 2000])
def test_the_asymptotic_step_is_far_from_the_best_step_for_300(images, start):
    F, t = _problem(images, start)
    r = feat.feature_scaling_study(F, t, scales=(1.0,), steps=300)[1.0]
    assert r["gd_step"] >= 1.8  # near the stability limit, not at 2/(lmax + lmin) ~ 2
    assert r["gd_asymptotic"][-1] > 3 * r["gd"][-1]


def test_excess_loss_curve_runs_the_package_adagrad(images):
    F, t = _problem(images, 0)
    H, b = feat.scaled_problem(F, t, 10.0)
    curve = feat.excess_loss_curve(H, b, "adagrad", lr=0.03, steps=5)
    w, state = np.zeros(len(b)), []
    for _ in range(5):
        (w,), state = adagrad_update([w], [H @ w - b], state, lr=0.03)
    w_star = np.linalg.solve(H, b)
    d0, d = -w_star, w - w_star
    assert curve[-1] == pytest.approx((d @ H @ d) / (d0 @ H @ d0), rel=1e-12)


def test_bad_arguments(images):
    F, t = _problem(images, 0)
    with pytest.raises(ValueError, match="scale"):
        feat.scaled_problem(F, t, 0.0)
    H, b = feat.scaled_problem(F, t)
    with pytest.raises(ValueError, match="method"):
        feat.excess_loss_curve(H, b, "adam")
    with pytest.raises(ValueError, match="alpha"):
        feat.excess_loss_curve(H, b, "adagrad")
