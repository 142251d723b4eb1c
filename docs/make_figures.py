"""Regenerate the figures under docs/ (run: python docs/make_figures.py).

- docs/expression.svg: the README's tanh neuron, y = tanh(x*w + b), after
  backward, with the local derivative on every edge.
- docs/mlp.svg: MLP(2, [4, 4, 1]) with a squared-error loss, one node per
  neuron (`collapse_neurons=True`), N0 on top in each layer.
- docs/mlp_neurons.svg: the same network with every op drawn and each
  neuron's ops boxed together (`group_neurons=True`).

Everything is seeded, so the DOT is the same on every run. The SVG bytes
depend on the renderer: unless AUTOGRAD_MINI_DOT is set, this script uses
graphviz-pure when it is installed (it writes the same bytes on every
platform), so rerunning it leaves the committed files unchanged.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from autograd_mini import Value, draw
from autograd_mini.nn import MLP
from autograd_mini.nn.losses import squared_error
from autograd_mini.views.render import ENV_VAR, find_graphviz_pure

DOCS = Path(__file__).resolve().parent


def neuron_expression() -> Value:
    """y = tanh(x*w + b), after backward: the neuron of the README's drawing example."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.5, label="b")
    y = (x * w + b).tanh()
    y.label = "y"
    y.backward()
    return y


def mlp_loss() -> Value:
    """The squared error of MLP(2, [4, 4, 1]) on one example, after backward."""
    model = MLP(2, [4, 4, 1], seed=0)
    y = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    loss = squared_error(y, Value(1.0, label="t"))
    loss.label = "E"
    loss.backward()
    return loss


def chain_loss() -> tuple[Value, Value]:
    """(E, w_j-2,j-1): the chain O_j-2 -> j-1 -> j of (1.9)/(1.10), after backward.

    The numbers are the walk-through's in docs/backprop-derivation.md.
    """
    x = Value(0.35, label="O_j-2")
    w_a = Value(0.8, label="w_j-2,j-1")
    w_b = Value(-1.2, label="w_j-1,j")
    net_a = w_a * x
    net_a.label = "net_j-1"
    o_a = net_a.sigmoid()
    o_a.label = "O_j-1"
    net_b = w_b * o_a
    net_b.label = "net_j"
    y = net_b.sigmoid()
    y.label = "O_j = y"
    loss = squared_error(y, Value(0.5, label="t"))
    loss.label = "E"
    loss.backward()
    return loss, w_a


def main() -> None:
    if not os.environ.get(ENV_VAR) and (pure := find_graphviz_pure()) is not None:
        os.environ[ENV_VAR] = pure
    chain, w_a = chain_loss()
    figures = {
        "expression.svg": draw(neuron_expression(), show_derivatives=True),
        "mlp.svg": draw(mlp_loss(), collapse_neurons=True),
        "mlp_neurons.svg": draw(mlp_loss(), group_neurons=True),
        "chain.svg": draw(chain, show_derivatives=True, highlight=w_a),
    }
    for name, drawing in figures.items():
        path = drawing.save(DOCS / name)
        print(f"wrote {path.relative_to(DOCS.parent)} ({drawing.node_count} nodes, {drawing.edge_count} edges)")


if __name__ == "__main__":
    sys.exit(main())
