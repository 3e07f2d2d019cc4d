"""Fashion-MNIST loading: real data, checksums, clear errors, the mini-batch iterator."""

import gzip
import shutil

import pytest
import torch

from course_utils import data
from course_utils.data import (
    DataCorruptError,
    DataNotFoundError,
    find_data_dir,
    iterate_minibatches,
    load_fashion_mnist,
)


@pytest.fixture(scope="module")
def fmnist():
    return load_fashion_mnist()


def test_shapes_dtypes_and_normalization(fmnist):
    X_train, y_train, X_test, y_test, classes = fmnist
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert X_train.min().item() == -1.0 and X_train.max().item() == 1.0
    assert sorted(y_train.unique().tolist()) == list(range(10))
    assert torch.bincount(y_test).tolist() == [1000] * 10  # the real test set is balanced
    assert classes[0] == "T-shirt/top" and classes[9] == "Ankle boot"


def test_matches_torchvision_transform(fmnist):
    """Our normalization equals the course's ToTensor + Normalize((0.5,), (0.5,))."""
    from torchvision import transforms
    from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

    directory = find_data_dir()
    raw_path = directory / "t10k-images-idx3-ubyte.gz"
    tmp = data.REPO_DATA_DIR / "cache" / "t10k-check.idx"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(gzip.decompress(raw_path.read_bytes()))
    try:
        first = read_sn3_pascalvincent_tensor(str(tmp))[0].numpy()
    finally:
        tmp.unlink()
    course = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    expected = course(first)
    assert torch.allclose(fmnist[2][0], expected, atol=1e-6)


def _copy_dataset(tmp_path):
    for name, *_ in data.FILES:
        shutil.copy(find_data_dir() / f"{name}.gz", tmp_path / f"{name}.gz")
    return tmp_path


def test_missing_data_lists_three_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError) as err:
        load_fashion_mnist()
    text = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in text
    assert "--download" in text and "FASHION_MNIST_DIR" in text
    assert str(tmp_path / "nowhere") in text


def test_corrupted_file_is_named(tmp_path):
    root = _copy_dataset(tmp_path)
    victim = root / "train-labels-idx1-ubyte.gz"
    blob = bytearray(gzip.decompress(victim.read_bytes()))
    blob[100] ^= 0xFF  # one flipped label byte
    victim.write_bytes(gzip.compress(bytes(blob)))
    with pytest.raises(DataCorruptError) as err:
        load_fashion_mnist(root, cache_dir=tmp_path / "cache")
    text = str(err.value)
    assert "train-labels-idx1-ubyte.gz" in text and "25c81989df183df01b3e8a0aad5dffbe" in text
    assert "--download" in text


def test_truncated_file_is_named(tmp_path):
    root = _copy_dataset(tmp_path)
    victim = root / "t10k-images-idx3-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:1000])
    with pytest.raises(DataCorruptError, match="t10k-images-idx3-ubyte.gz"):
        load_fashion_mnist(root, cache_dir=tmp_path / "cache")


def test_cache_is_invalidated_when_a_source_changes(tmp_path):
    root = _copy_dataset(tmp_path)
    load_fashion_mnist(root, cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "fashion_mnist_uint8.pt").is_file()
    victim = root / "train-images-idx3-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[:-10])  # a cached copy must not hide this
    with pytest.raises(DataCorruptError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist(root, cache_dir=tmp_path / "cache")


def test_minibatches_cover_every_sample_once_and_are_seeded():
    X = torch.arange(1000).float().unsqueeze(1)
    y = torch.arange(1000)
    batches = list(iterate_minibatches(X, y, batch_size=128, seed=3))
    assert [len(b[1]) for b in batches] == [128] * 7 + [104]
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(1000)) and seen.tolist() != list(range(1000))
    again = torch.cat([b[1] for b in iterate_minibatches(X, y, batch_size=128, seed=3)])
    assert torch.equal(seen, again)
    other = torch.cat([b[1] for b in iterate_minibatches(X, y, batch_size=128, seed=4)])
    assert not torch.equal(seen, other)
    assert torch.equal(batches[0][0].squeeze(1).long(), batches[0][1])  # rows stay paired


def test_minibatch_bad_input():
    with pytest.raises(ValueError, match="must match"):
        next(iterate_minibatches(torch.zeros(3, 1), torch.zeros(4)))
    with pytest.raises(ValueError, match="batch_size"):
        next(iterate_minibatches(torch.zeros(3, 1), torch.zeros(3), batch_size=0))
