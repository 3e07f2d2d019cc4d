"""The course's MLP: architecture, parameter count, seeded construction."""

import pytest
import torch

from course_utils.models import count_parameters, make_mlp


def test_architecture_matches_the_course():
    model = make_mlp(0)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 256), (256, 128), (128, 10)]
    assert isinstance(model[0], torch.nn.Flatten)
    assert sum(isinstance(m, torch.nn.ReLU) for m in model) == 2
    assert count_parameters(model) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10 == 235_146
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_seed_fixes_weights_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = make_mlp(0), make_mlp(0), make_mlp(1)
    assert torch.rand(1) == expected_next
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a[1].weight, c[1].weight)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        make_mlp(seed)
