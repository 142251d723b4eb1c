"""Train MLP(2, [16, 16, 3]) with a softmax output on three interleaved spirals.

make_spirals(150, classes=3): 50 points per arm, not linearly separable. Tanh
hidden layers, a softmax output trained with multi-class cross-entropy on the
output layer's nets (`model.logits`, log-sum-exp inside `cross_entropy`), the
mean over the whole set each step, and Adam. Prints loss and training accuracy
(the class of the largest probability) as it goes, then the accuracy on 150
fresh points drawn from the same spirals (another seed).

    python examples/train_spirals.py [--steps N] [--seed S] [--quiet]
"""

from __future__ import annotations

import argparse
import time

from autograd_mini import sum_of
from autograd_mini.nn import MLP, cross_entropy, make_spirals
from autograd_mini.nn.optim import Adam


def train(steps: int = 100, seed: int = 0, lr: float = 0.05, verbose: bool = True) -> tuple[float, float]:
    """Train; return (training accuracy, accuracy on 150 fresh points of the same spirals), fractions in [0, 1]."""
    X, y = make_spirals(150, classes=3, noise=0.2, seed=0)
    model = MLP(2, [16, 16, 3], activation="tanh", output_activation="softmax", seed=seed)
    opt = Adam(model.parameters(), lr=lr)
    accuracy = 0.0
    for step in range(steps):
        logits = [model.logits(x) for x in X]
        loss = sum_of([cross_entropy(z, c) for z, c in zip(logits, y, strict=True)]) / len(X)
        # softmax is monotone, so the class of the largest probability is the class of the largest logit
        predicted = [max(range(3), key=lambda k, z=z: z[k].data) for z in logits]
        accuracy = sum(p == c for p, c in zip(predicted, y, strict=True)) / len(X)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if verbose and (step % 25 == 0 or step == steps - 1):
            print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.0%}")
    X_new, y_new = make_spirals(150, classes=3, noise=0.2, seed=1)
    held_out = sum(_predict(model, x) == c for x, c in zip(X_new, y_new, strict=True)) / len(X_new)
    return accuracy, held_out


def _predict(model: MLP, x: list[float]) -> int:
    probabilities = model(x)
    assert isinstance(probabilities, list)
    return max(range(len(probabilities)), key=lambda k: probabilities[k].data)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    accuracy, held_out = train(args.steps, args.seed, verbose=not args.quiet)
    seconds = time.perf_counter() - start
    print(f"final training accuracy {accuracy:.0%}, on fresh points {held_out:.0%}, "
          f"after {args.steps} steps ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
