"""Real Fashion-MNIST, verified and held in memory, plus a fast shuffled mini-batch iterator.

Where the files come from, first match wins:

1. the ``root`` argument, or the ``FASHION_MNIST_DIR`` environment variable;
2. ``data/`` in the repository (also torchvision's layout ``data/FashionMNIST/raw``);
3. Debian/Ubuntu's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
4. otherwise ``python -m course_utils.data --download`` fetches it into ``data/`` with torchvision.

Every file is checked against the published MD5 of the ``.gz`` file. Debian re-packs the same
bytes without the gzip file-name header (each ``.gz`` is exactly 24 bytes shorter, the same
deflate stream), so a file whose ``.gz`` checksum differs is accepted when the MD5 of its
*decompressed* content matches the upstream data; anything else is reported by name.

The decoded tensors are cached in ``data/cache/`` so later loads take well under a second.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import torch

from .paths import DATA_DIR, REPO_ROOT

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# (file name, published MD5 of the .gz as in torchvision's FashionMNIST.resources,
#  MD5 of the decompressed IDX content, number of records)
FILES = (
    (
        "train-images-idx3-ubyte",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        60000,
    ),
    (
        "train-labels-idx1-ubyte",
        "25c81989df183df01b3e8a0aad5dffbe",
        "9018921c3c673c538a1fc5bad174d6f9",
        60000,
    ),
    (
        "t10k-images-idx3-ubyte",
        "bef4ecab320f06d8554ea6380940ec79",
        "8181f5470baa50b63fa0f6fddb340f0a",
        10000,
    ),
    (
        "t10k-labels-idx1-ubyte",
        "bb300cfdad3c16e7a12a480ee83cd310",
        "15d484375f8d13e6eb1aabb0c3f46965",
        10000,
    ),
)

REPO_DATA_DIR = DATA_DIR if (REPO_ROOT / "pyproject.toml").exists() else Path.cwd() / "data"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
MEAN, STD = 0.5, 0.5  # the course's Normalize((0.5,), (0.5,)): pixels in [0, 1] -> [-1, 1]

HOW_TO_PROVIDE = """\
Fashion-MNIST was not found. Provide it in one of three ways:
  1. Debian/Ubuntu:   sudo apt-get install dataset-fashion-mnist
                      (files land in /usr/share/datasets/fashion-mnist)
  2. Download:        python -m course_utils.data --download
                      (torchvision fetches it into {repo_data}; needs internet)
  3. Your own copy:   set FASHION_MNIST_DIR=/path/to/dir holding the four
                      *-idx?-ubyte(.gz) files, or pass load_fashion_mnist(root=...)
Looked in: {looked}"""


class DataNotFoundError(FileNotFoundError):
    """No complete copy of Fashion-MNIST was found in any known place."""


class DataCorruptError(ValueError):
    """A Fashion-MNIST file exists but its checksum does not match the published one."""


def _candidate_dirs(root: Path) -> list[Path]:
    return [root, root / "FashionMNIST" / "raw", root / "fashion-mnist"]


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _complete(directory: Path) -> bool:
    return all(_find_file(directory, name) is not None for name, *_ in FILES)


def _search_order(root: str | os.PathLike | None) -> list[Path]:
    explicit = root if root is not None else os.environ.get("FASHION_MNIST_DIR")
    if explicit:
        return _candidate_dirs(Path(explicit).expanduser())
    return _candidate_dirs(REPO_DATA_DIR) + [DEBIAN_DIR]


def find_data_dir(root: str | os.PathLike | None = None) -> Path:
    """Return the first directory holding all four Fashion-MNIST files (see module docstring)."""
    looked = _search_order(root)
    for directory in looked:
        if _complete(directory):
            return directory
    raise DataNotFoundError(
        HOW_TO_PROVIDE.format(repo_data=REPO_DATA_DIR, looked=", ".join(str(p) for p in looked))
    )


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _read_verified(path: Path, gz_md5: str, raw_md5: str) -> bytes:
    """Return the decompressed bytes of one file after checking its checksum."""
    blob = path.read_bytes()
    if path.suffix == ".gz":
        if _md5(blob) == gz_md5:
            return gzip.decompress(blob)
        try:
            raw = gzip.decompress(blob)
        except (OSError, EOFError) as exc:
            raise DataCorruptError(
                _corrupt_message(path, gz_md5, _md5(blob), f"not valid gzip: {exc}")
            ) from exc
    else:
        raw = blob
    got = _md5(raw)
    if got != raw_md5:
        raise DataCorruptError(
            _corrupt_message(path, gz_md5 if path.suffix == ".gz" else raw_md5, got)
        )
    return raw


def _corrupt_message(path: Path, expected: str, got: str, detail: str = "") -> str:
    return (
        f"Fashion-MNIST file {path} is corrupted or truncated"
        + (f" ({detail})" if detail else "")
        + f": expected MD5 {expected}, got {got}. Fix: delete it and run "
        "`python -m course_utils.data --download` (or reinstall dataset-fashion-mnist)."
    )


def _decode(raw: bytes) -> torch.Tensor:
    """Parse IDX bytes with torchvision's reader (it takes a path, so write a temporary file)."""
    from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

    with tempfile.NamedTemporaryFile(suffix=".idx") as tmp:
        tmp.write(raw)
        tmp.flush()
        return read_sn3_pascalvincent_tensor(tmp.name, strict=True)


def _fingerprint(paths: list[Path]) -> list[tuple[str, int, int]]:
    return [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]


def _load_uint8(directory: Path, cache_dir: Path) -> dict[str, torch.Tensor]:
    """Verified uint8 tensors of all four files, from the cache when the sources are unchanged."""
    paths = [_find_file(directory, name) for name, *_ in FILES]
    cache = cache_dir / "fashion_mnist_uint8.pt"
    stamp = _fingerprint(paths)
    if cache.is_file():
        try:
            cached = torch.load(cache, weights_only=True, mmap=True)
            if cached.get("stamp") == [list(s) for s in stamp]:
                return cached["tensors"]
        except Exception:
            pass
    tensors = {}
    for path, (name, gz_md5, raw_md5, count) in zip(paths, FILES):
        tensor = _decode(_read_verified(path, gz_md5, raw_md5))
        if tensor.shape[0] != count:
            raise DataCorruptError(f"{path} holds {tensor.shape[0]} records, expected {count}.")
        tensors[name] = tensor
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        torch.save({"stamp": [list(s) for s in stamp], "tensors": tensors}, tmp)
        os.replace(tmp, cache)
    except OSError:
        pass  # read-only checkout: loading still works, just not cached
    return tensors


def load_fashion_mnist(
    root: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None
):
    """Load Fashion-MNIST as normalized tensors.

    Returns ``(X_train, y_train, X_test, y_test, class_names)``: images float32 of shape
    (N, 1, 28, 28) with values in [-1, 1] (``(x/255 - 0.5) / 0.5``), labels int64.
    """
    directory = find_data_dir(root)
    cache_dir = Path(cache_dir) if cache_dir is not None else REPO_DATA_DIR / "cache"
    raw = _load_uint8(directory, cache_dir)

    def images(t: torch.Tensor) -> torch.Tensor:
        # (x/255 - MEAN)/STD, written as one scale and one shift done in place (faster, same values
        # to 1 ulp as torchvision's ToTensor + Normalize).
        out = t.to(torch.float32).mul_(1.0 / (255.0 * STD)).sub_(MEAN / STD)
        return out.unsqueeze(1)

    return (
        images(raw["train-images-idx3-ubyte"]),
        raw["train-labels-idx1-ubyte"].to(torch.int64),
        images(raw["t10k-images-idx3-ubyte"]),
        raw["t10k-labels-idx1-ubyte"].to(torch.int64),
        list(CLASS_NAMES),
    )


VAL_SEED = 808  # which training images are held out for validation, the same for every run


def holdout_split(n: int, n_val: int, seed: int = VAL_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(pool, val)`` splitting ``range(n)``: ``n_val`` images held out for validation.

    A fixed random choice (``seed``), both index sets sorted. Learning rates and decays are
    chosen on the validation images, so that the test set is used once, for the final report.
    """
    if not 1 <= n_val < n:
        raise ValueError(f"n_val must be in [1, {n - 1}], got {n_val!r}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_val:].sort().values, order[:n_val].sort().values


def iterate_minibatches(X, y, batch_size=128, shuffle=True, generator=None, seed=None):
    """Yield (X_batch, y_batch) slices of in-memory tensors in a seeded random order.

    Pass a ``torch.Generator`` to continue one random stream across epochs, or ``seed`` for a
    one-off order. The last batch may be smaller. No per-sample transform runs.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}: they must match.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    n = len(X)
    if shuffle:
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], y[idx]
    else:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]


def download(root: str | os.PathLike | None = None) -> Path:
    """Download Fashion-MNIST with torchvision (MD5-checked) into ``root`` or ``data/``."""
    from torchvision.datasets import FashionMNIST

    target = Path(root) if root else REPO_DATA_DIR
    FashionMNIST(str(target), train=True, download=True)
    FashionMNIST(str(target), train=False, download=True)
    return target / "FashionMNIST" / "raw"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Find, verify or download Fashion-MNIST.")
    parser.add_argument("--download", action="store_true", help="download into data/ if not found")
    parser.add_argument("--root", default=None, help="directory holding the four files")
    args = parser.parse_args(argv)
    try:
        directory = find_data_dir(args.root)
    except DataNotFoundError as exc:
        if not args.download:
            print(exc, file=sys.stderr)
            return 1
        directory = download(args.root)
    try:
        X_train, _, X_test, _, _ = load_fashion_mnist(args.root or directory)
    except (DataCorruptError, DataNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Fashion-MNIST OK in {directory}: {len(X_train)} train, {len(X_test)} test images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
