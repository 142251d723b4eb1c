"""make_moons and xor: shapes, labels, geometry, determinism."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini.nn.datasets import make_moons, xor


@given(st.integers(1, 300), st.integers(0, 2**32))
def test_moons_shape_labels_and_balance(n: int, seed: int) -> None:
    X, y = make_moons(n, noise=0.1, seed=seed)
    assert len(X) == len(y) == n
    assert all(len(p) == 2 and all(type(v) is float for v in p) for p in X)
    assert set(y) <= {0, 1}
    assert y.count(0) == n // 2 and y.count(1) == n - n // 2


def test_noise_free_points_lie_on_the_two_half_circles() -> None:
    X, y = make_moons(50, noise=0.0, seed=3)
    for (x0, x1), label in zip(X, y, strict=True):
        if label == 0:
            assert math.hypot(x0, x1) == pytest.approx(1.0) and x1 >= -1e-12
        else:
            assert math.hypot(x0 - 1.0, x1 - 0.5) == pytest.approx(1.0) and x1 <= 0.5 + 1e-12
    outer = sorted(x0 for (x0, _), label in zip(X, y, strict=True) if label == 0)
    assert outer[0] == pytest.approx(-1.0) and outer[-1] == pytest.approx(1.0)


def test_same_seed_same_data_and_noise_scale() -> None:
    assert make_moons(100, 0.1, seed=5) == make_moons(100, 0.1, seed=5)
    assert make_moons(100, 0.1, seed=5) != make_moons(100, 0.1, seed=6)
    clean, _ = make_moons(2000, 0.0, seed=1)
    noisy, _ = make_moons(2000, 0.1, seed=1)
    # same shuffle, so the differences are the noise: standard deviation ~ 0.1
    diffs = [a - b for p, q in zip(noisy, clean, strict=True) for a, b in zip(p, q, strict=True)]
    std = math.sqrt(sum(d * d for d in diffs) / len(diffs))
    assert 0.09 < std < 0.11


def test_moons_shuffled() -> None:
    _, y = make_moons(100, 0.1, seed=0)
    assert y != sorted(y)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"n": 0}, ValueError), ({"n": 2.5}, ValueError), ({"noise": -1.0}, ValueError),
     ({"noise": math.inf}, ValueError), ({"seed": "a"}, TypeError)],
)
def test_moons_arguments(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        make_moons(**kwargs)


def test_xor() -> None:
    X, y = xor()
    assert X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y == [int(a) ^ int(b) for a, b in X]
