"""The data sets: the lab's two exactly as specified, the others sane, all seeded."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sweep import DATASETS, make_dataset

RANDOM = ["linear", "circle", "moons", "spiral"]


def test_xor_is_the_labs_21_points() -> None:
    expected_x, expected_y = [], []
    for i in range(11):
        expected_x.append((0.1 * i, 0.1 * i))
        expected_y.append(0.0)
        if i != 5:
            expected_x.append((0.1 * i, 1 - 0.1 * i))
            expected_y.append(1.0)
    x, y = make_dataset("xor")
    assert x.shape == (21, 2) and y.shape == (21, 1)
    assert_allclose(x, np.array(expected_x), rtol=0, atol=1e-15)
    assert_array_equal(y.ravel(), expected_y)
    assert y.sum() == 10  # (0.5, 0.5) is on the diagonal only, labelled 0


def test_xor_ignores_the_seed() -> None:
    x0, y0 = make_dataset("xor", seed=0)
    x1, y1 = make_dataset("xor", seed=123)
    assert_array_equal(x0, x1)
    assert_array_equal(y0, y1)


def test_xor_has_a_fixed_size() -> None:
    with pytest.raises(ValueError, match="xor"):
        make_dataset("xor", n=50)


def test_linear_is_uniform_in_the_unit_square_labelled_by_the_diagonal() -> None:
    x, y = make_dataset("linear")
    assert x.shape == (100, 2) and y.shape == (100, 1)
    assert_array_equal(y.ravel(), np.where(x[:, 0] > x[:, 1], 0.0, 1.0))
    big, labels = make_dataset("linear", seed=1, n=20_000)
    assert big.min() >= 0.0 and big.max() <= 1.0
    # Uniform: each coordinate has mean 1/2 and variance 1/12; the classes split evenly.
    assert_allclose(big.mean(axis=0), 0.5, atol=0.01)
    assert_allclose(big.var(axis=0), 1 / 12, atol=0.003)
    assert abs(labels.mean() - 0.5) < 0.015
    counts = np.histogram2d(big[:, 0], big[:, 1], bins=4, range=[[0, 1], [0, 1]])[0]
    assert counts.min() > 0.8 * 20_000 / 16 and counts.max() < 1.2 * 20_000 / 16


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shapes_dtypes_and_labels(name: str) -> None:
    x, y = make_dataset(name)
    n = DATASETS[name][1]
    assert x.shape == (n, 2) and y.shape == (n, 1)
    assert x.dtype == y.dtype == np.float64
    assert x.flags.c_contiguous
    assert set(np.unique(y)) == {0.0, 1.0}
    assert np.isfinite(x).all()


@pytest.mark.parametrize("name", RANDOM)
def test_the_data_seed_decides_the_points(name: str) -> None:
    x0, y0 = make_dataset(name, seed=7)
    x1, y1 = make_dataset(name, seed=7)
    assert_array_equal(x0, x1)
    assert_array_equal(y0, y1)
    x2, _ = make_dataset(name, seed=8)
    assert not np.array_equal(x0, x2)


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("n", [2, 3, 101, 1000])
def test_n_points_both_classes_balanced(name: str, n: int) -> None:
    x, y = make_dataset(name, n=n)
    assert x.shape == (n, 2) and y.shape == (n, 1)
    if name != "linear":  # the linear classes are balanced only on average
        assert abs(y.sum() - n / 2) <= 0.5
    if n >= 101:
        assert 0.35 < y.mean() < 0.65


def test_circle_moons_spiral_shapes() -> None:
    x, y = make_dataset("circle", n=200)
    radius = np.hypot(x[:, 0], x[:, 1])
    assert_allclose(radius[y.ravel() == 0], 1.0)
    assert_allclose(radius[y.ravel() == 1], 0.5)
    x, y = make_dataset("moons", n=200)
    upper, lower = x[y.ravel() == 0], x[y.ravel() == 1]
    assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    # Two arms half a turn apart: angle = 3 pi r (+ pi for class 1), r in [0.25, 1].
    x, y = make_dataset("spiral", n=200)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.min() >= 0.25 and r.max() <= 1.0
    off = np.arctan2(x[:, 1], x[:, 0]) - 3 * np.pi * r - np.pi * y.ravel()
    assert_allclose(np.angle(np.exp(1j * off)), 0.0, atol=1e-9)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_noise_jitters_the_points_and_keeps_the_labels(name: str) -> None:
    kw = {} if name == "xor" else {"n": 4000}
    clean_x, clean_y = make_dataset(name, seed=3, **kw)
    noisy_x, noisy_y = make_dataset(name, seed=3, noise=0.05, **kw)
    assert_array_equal(noisy_y, clean_y)
    jitter = noisy_x - clean_x
    assert np.abs(jitter).max() > 0
    if name != "xor":
        assert abs(jitter.std() - 0.05) < 0.003
        assert abs(jitter.mean()) < 0.003
    zero_x, _ = make_dataset(name, seed=3, noise=0.0, **kw)
    assert_array_equal(zero_x, clean_x)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "xr"}, "dataset must be one of"),
        ({"name": "linear", "n": 1}, "n must be >= 2"),
        ({"name": "linear", "noise": -1.0}, "noise must be >= 0"),
        ({"name": "linear", "noise": float("nan")}, "noise must be >= 0"),
    ],
)
def test_bad_arguments(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        make_dataset(**kwargs)
