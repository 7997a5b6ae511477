"""The vectorisable sigmoid and tanh against an 80-bit reference: ulps, ends, NaN.

Every kernel (one run, lockstep, generated) takes these two functions, so their
accuracy bounds every training run's: within 3 ulp of the exact value inside the clamp
(|z| <= 708), the right limits past it, NaN kept (a diverged run must still show a NaN
loss).
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from kernels.activations import SHORT_ROW, sigmoid_row, sigmoid_vector, tanh_row, tanh_vector

pytestmark = pytest.mark.skipif(
    np.finfo(np.longdouble).nmant < 63, reason="needs x87 80-bit long double as the reference"
)


def points() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.concatenate(
        [
            rng.uniform(-40.0, 40.0, 200_000),
            rng.normal(0.0, 1.0, 100_000),
            rng.uniform(-1e-3, 1e-3, 50_000),
            rng.uniform(-745.0, 745.0, 50_000),
            [0.0, -0.0, 1e-300, -1e-300, 0.5 * np.log(2.0), 709.0, -709.0],
        ]
    )


def ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    return np.abs(got - exact) / np.spacing(np.abs(exact.astype(np.float64)))


def apply(fn, z: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    a = np.empty_like(z)
    fn(z, a, len(z))
    return a


def test_sigmoid_within_3_ulp_inside_the_clamp() -> None:
    z = points()
    exact = 1.0 / (1.0 + np.exp(-z.astype(np.longdouble)))
    inside = z >= -708.0
    assert ulps(apply(sigmoid_vector, z), exact)[inside].max() < 3.0


def test_tanh_within_3_ulp() -> None:
    z = points()
    exact = np.tanh(z.astype(np.longdouble))
    got = apply(tanh_vector, z)
    nonzero = exact != 0.0
    assert ulps(got, exact)[nonzero].max() < 3.0
    assert_array_equal(got[~nonzero], 0.0)


def test_ends_and_nan() -> None:
    z = np.array([np.inf, -np.inf, 1000.0, -1000.0, np.nan, 0.0, 0.0, 0.0])
    sig = apply(sigmoid_vector, z)
    assert_array_equal(sig[[0, 2]], 1.0)
    # exp(-z) is clamped at exp(708): 3.3e-308 where the exact value is smaller.
    assert np.all((sig[[1, 3]] >= 0.0) & (sig[[1, 3]] < 4e-308))
    assert np.isnan(sig[4])
    th = apply(tanh_vector, z)
    assert_array_equal(th[[0, 1, 2, 3]], [1.0, -1.0, 1.0, -1.0])
    assert np.isnan(th[4])


@pytest.mark.parametrize("m", [1, SHORT_ROW - 1, SHORT_ROW, 37])
def test_rows_agree_with_the_vector_versions(m: int) -> None:
    """Short rows take libm, longer ones the vector code: both within an ulp or two."""
    z = np.random.default_rng(m).normal(0.0, 4.0, m)
    np.testing.assert_allclose(apply(sigmoid_row, z), apply(sigmoid_vector, z), rtol=5e-16)
    np.testing.assert_allclose(apply(tanh_row, z), apply(tanh_vector, z), rtol=5e-16, atol=1e-300)
