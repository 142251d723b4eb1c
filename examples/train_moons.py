"""Train MLP(2, [16, 16, 1]) on make_moons(100, noise=0.1) with the eager engine.

ReLU hidden layers, a linear output read as a score (class 1 when > 0), the
max-margin hinge loss plus a small L2 penalty, and SGD with momentum and a
decaying learning rate. Prints loss and training accuracy as it goes.

    python examples/train_moons.py [--steps N] [--seed S] [--quiet]
"""

from __future__ import annotations

import argparse
import time

from autograd_mini import dot
from autograd_mini.nn import MLP
from autograd_mini.nn.datasets import make_moons
from autograd_mini.nn.losses import hinge
from autograd_mini.nn.optim import SGD


def train(steps: int = 100, seed: int = 1, alpha: float = 1e-4, lr: float = 0.1, verbose: bool = True) -> float:
    """Train and return the final training accuracy (a fraction in [0, 1])."""
    X, y = make_moons(100, noise=0.1, seed=0)
    labels = [2 * t - 1 for t in y]  # {0, 1} -> {-1, +1} for the hinge loss
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=seed)
    params = model.parameters()
    opt = SGD(params, lr=lr, momentum=0.9)
    accuracy = 0.0
    for step in range(steps):
        scores = [model(x) for x in X]
        loss = hinge(scores, labels) + alpha * dot(params, params)  # data loss + L2 penalty
        accuracy = sum((s.data > 0) == (t > 0) for s, t in zip(scores, labels, strict=True)) / len(X)
        opt.zero_grad()
        loss.backward()
        opt.lr = lr * (1.0 - 0.9 * step / steps)  # linear decay to a tenth
        opt.step()
        if verbose and (step % 10 == 0 or step == steps - 1):
            print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")
    return accuracy


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    accuracy = train(args.steps, args.seed, verbose=not args.quiet)
    print(f"final training accuracy {accuracy:.0%} after {args.steps} steps ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
