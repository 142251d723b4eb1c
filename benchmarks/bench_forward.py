"""Forward-mode benchmark for issue 23: what a jvp pass costs beside a plain forward pass.

Run:  python benchmarks/bench_forward.py           (a few seconds of CPU per workload)
      python benchmarks/bench_forward.py --quick   (tiny sizes: checks it runs)

Workloads, each a function of numbers evaluated on autograd_mini Values:
  mlp     one example through an MLP 8 -> 32 -> 32 -> 1 (tanh), weights as constants,
          differentiated with respect to the 8 inputs.
  chain   x = log(exp(x) * 1.5) - 0.4, repeated: a deep chain of unary and binary rows whose
          derivative stays 1, so the tangent reaches every node (a zero tangent stops a jvp pass).
Contenders (interleaved, median CPU time per call):
  forward            f on fresh Values (records the graph)
  jvp                autograd_mini.jvp: the same forward plus one tangent pass
  forward+backward   f, then backward() (reverse mode's one pass)
The claim of the issue: a jvp costs about one forward pass plus a constant factor.
No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from typing import Any

from common import Contender, environment_line, import_heavy, measure

from autograd_mini import Value, dot, jvp


def mlp_function(sizes: list[int], seed: int = 0) -> tuple[Callable[..., Value], list[float]]:
    """f(x_1..x_n): an MLP with tanh hidden layers and a linear output; returns (f, a point)."""
    rng = random.Random(seed)
    layers = [[[rng.uniform(-1, 1) / a ** 0.5 for _ in range(a + 1)] for _ in range(b)]
              for a, b in zip(sizes, sizes[1:], strict=False)]

    def f(*xs: Any) -> Value:
        h = list(xs)
        for k, layer in enumerate(layers):
            nets = [dot(row[:-1], h) + row[-1] for row in layer]
            h = nets if k == len(layers) - 1 else [net.tanh() for net in nets]
        return h[0]  # type: ignore[no-any-return]

    return f, [rng.uniform(-1, 1) for _ in range(sizes[0])]


def chain_function(length: int) -> tuple[Callable[..., Value], list[float]]:
    def f(x: Value) -> Value:
        for _ in range(length):
            x = (x.exp() * 1.5).log() - 0.4
        return x

    return f, [0.3]


def contenders(f: Callable[..., Value], xs: list[float], steps: int) -> list[Contender]:
    v = [1.0] * len(xs)

    def forward() -> float:
        return f(*[Value(x) for x in xs]).data

    def forward_backward() -> float:
        inputs = [Value(x) for x in xs]
        f(*inputs).backward()
        return inputs[0].grad

    def tangent() -> float:
        return float(jvp(f, xs, v)[1])

    return [Contender("forward", forward, steps=steps), Contender("jvp", tangent, steps=steps),
            Contender("forward+backward", forward_backward, steps=steps)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few repeats: checks the script runs")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 15; 3 with --quick)")
    parser.add_argument("--heavy", action="store_true", help="import torch and matplotlib first, as run_all does")
    args = parser.parse_args()
    if args.heavy:
        import_heavy()
    repeats, steps = (3, 2) if args.quick else (15, 20)
    repeats = args.repeats or repeats
    workloads = {
        "mlp": mlp_function([8, 4, 1] if args.quick else [8, 32, 32, 1]),
        "chain": chain_function(50 if args.quick else 2000),
    }
    print(environment_line())
    print(f"{'workload':<8} {'contender':<18} {'median ms':>10} {'x forward':>10} {'x fwd+bwd':>10}")
    for name, (f, xs) in workloads.items():
        cs = contenders(f, xs, steps)
        measure(cs, repeats)
        base, both = cs[0].median, cs[2].median
        for c in cs:
            print(f"{name:<8} {c.name:<18} {c.median * 1e3:>10.3f} {c.median / base:>10.2f} {c.median / both:>10.2f}")


if __name__ == "__main__":
    main()
