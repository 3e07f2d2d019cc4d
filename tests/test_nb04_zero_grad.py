"""Notebook 04's spike at alpha/eps: the weights with v_hat = 0 are exactly those whose two units
never fire on the same example, and most of them join two units that both fire."""

import pytest

from course_utils.nb04_zero_grad import zero_gradient_anatomy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zero_v_weights_are_the_never_coactive_pairs(seed):
    a = zero_gradient_anatomy(steps=100, seed=seed)
    assert a.predicted_equals_measured
    assert a.dead["layer 1"] == 0  # no first-layer unit is dead
    assert a.dead["layer 2"] <= 2  # at most a couple of second-layer units never fire
    assert a.zero_v["layer 1 weights"] == 0
    assert 0.01 < a.fraction("layer 2 weights") < 0.05
    assert sum(a.layer2_causes.values()) == a.zero_v["layer 2 weights"]
    # the lesson: most of the spike is pairs of live units that never fire together
    assert a.layer2_causes["never co-active"] > 0.5 * a.zero_v["layer 2 weights"]
    # each dead layer-2 unit accounts for its 256 inputs, 10 outputs and its bias
    assert a.layer2_causes["out unit dead"] == 256 * a.dead["layer 2"]
    assert a.zero_v["layer 3 weights"] == 10 * a.dead["layer 2"]


def test_bad_steps():
    with pytest.raises(ValueError, match="steps"):
        zero_gradient_anatomy(steps=0)
