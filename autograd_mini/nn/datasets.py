"""Small 2-D classification sets, generated here (no scikit-learn).

Each returns (X, y): X a list of [x0, x1] float pairs, y a list of int class labels
({0, 1}, or 0..k-1 for `make_spirals`).
"""

from __future__ import annotations

import math
import random


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = 0) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, as scikit-learn's `make_moons`.

    n // 2 points lie on the upper half circle of radius 1 centred at (0, 0)
    (label 0) and the rest on the lower half circle centred at (1, 0.5)
    (label 1), evenly spaced in angle; each coordinate then gets Gaussian noise
    of standard deviation `noise`, and the points are shuffled. The same seed
    gives the same data (the numbers differ from scikit-learn's, which uses
    numpy's generator).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"make_moons: n must be a positive int, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise < math.inf:
        raise ValueError(f"make_moons: noise must be a finite number >= 0, got {noise!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"make_moons: seed must be an int or None, got {seed!r}")
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    points = [([math.cos(a), math.sin(a)], 0) for a in _angles(n_outer)]
    points += [([1.0 - math.cos(a), 0.5 - math.sin(a)], 1) for a in _angles(n_inner)]
    rng.shuffle(points)
    X = [[x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)] for (x0, x1), _ in points]
    y = [label for _, label in points]
    return X, y


def make_spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> tuple[list[list[float]], list[int]]:
    """k interleaved spiral arms, one class each (the CS231n spiral set), for multi-class softmax.

    Arm c holds n // k points (the first n % k arms one more), at radius r
    evenly spaced in [0, 1] and angle 4 r + 2 pi c / k, plus Gaussian noise of
    standard deviation `noise` on the angle; the points are shuffled. Not
    linearly separable for k >= 2: a hidden layer is needed.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"make_spirals: n must be a positive int, got {n!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= n:
        raise ValueError(f"make_spirals: classes must be an int from 2 to n = {n}, got {classes!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0.0 <= noise < math.inf:
        raise ValueError(f"make_spirals: noise must be a finite number >= 0, got {noise!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"make_spirals: seed must be an int or None, got {seed!r}")
    rng = random.Random(seed)
    points: list[tuple[list[float], int]] = []
    for c in range(classes):
        count = n // classes + (c < n % classes)
        for i in range(count):
            r = i / (count - 1) if count > 1 else 1.0
            angle = 4.0 * r + 2.0 * math.pi * c / classes + rng.gauss(0.0, noise)
            points.append(([r * math.cos(angle), r * math.sin(angle)], c))
    rng.shuffle(points)
    return [p for p, _ in points], [label for _, label in points]


def xor() -> tuple[list[list[float]], list[int]]:
    """The four corners of the unit square, labelled x0 XOR x1."""
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return X, [0, 1, 1, 0]


def _angles(count: int) -> list[float]:
    """`count` angles evenly spaced over [0, pi] (numpy.linspace(0, pi, count))."""
    if count == 1:
        return [0.0]
    return [math.pi * i / (count - 1) for i in range(count)]
