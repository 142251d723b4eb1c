"""Matt Mazur's "A Step by Step Backpropagation Example", reproduced with autograd_mini.

Run: python examples/mazur.py

The 2-2-2 sigmoid network of the post: inputs i1 = 0.05, i2 = 0.10; weights
w1..w4 into the hidden neurons h1, h2 and w5..w8 into the outputs o1, o2;
one bias per layer (0.35, then 0.60); targets 0.01 and 0.99; squared error
summed over the two outputs (the package's extension of (1.4)); one gradient
descent step at learning rate 0.5. The script prints the forward pass, the
per-neuron `delta_table`, the total error and the eight weights after the
step, each beside the figure the post publishes.

Mazur's names and the package's labels (receiving neuron first, see
docs/backprop-derivation.md): h1 = L1.N0, h2 = L1.N1, o1 = L2.N0, o2 = L2.N1,
w1 = L1.N0.w0 (i1 -> h1), w2 = L1.N0.w1, w3 = L1.N1.w0, w4 = L1.N1.w1,
w5 = L2.N0.w0 (h1 -> o1), w6 = L2.N0.w1, w7 = L2.N1.w0, w8 = L2.N1.w1.
The post keeps the biases fixed; the step here updates them too, which
changes none of the weights (every gradient is taken before the step).
"""

from __future__ import annotations

from autograd_mini import Value, sum_of
from autograd_mini.nn import MLP
from autograd_mini.nn.delta import DeltaTable, delta_table
from autograd_mini.nn.losses import squared_error
from autograd_mini.nn.optim import SGD

INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]
WEIGHTS = [
    [[0.15, 0.20], [0.25, 0.30]],  # into h1 from (i1, i2): w1, w2; into h2: w3, w4
    [[0.40, 0.45], [0.50, 0.55]],  # into o1 from (h1, h2): w5, w6; into o2: w7, w8
]
BIASES = [[0.35, 0.35], [0.60, 0.60]]  # b1 for both hidden neurons, b2 for both outputs
LEARNING_RATE = 0.5

# Mazur's name -> the package's label of that weight.
WEIGHT_LABELS = {
    "w1": "L1.N0.w0", "w2": "L1.N0.w1", "w3": "L1.N1.w0", "w4": "L1.N1.w1",
    "w5": "L2.N0.w0", "w6": "L2.N0.w1", "w7": "L2.N1.w0", "w8": "L2.N1.w1",
}

# The figures the post publishes, as printed there (their digits are the precision checked).
PUBLISHED = {
    "net_h1": "0.3775",
    "out_h1": "0.593269992",
    "out_h2": "0.596884378",
    "net_o1": "1.105905967",
    "out_o1": "0.75136507",
    "out_o2": "0.772928465",
    "E_total": "0.298371109",
    "dE/dout_o1": "0.74136507",
    "dout_o1/dnet_o1": "0.186815602",
    "dE/dw5": "0.082167041",
    "dE/dout_h1": "0.036350306",
    "dout_h1/dnet_h1": "0.241300709",
    "dE/dw1": "0.000438568",
    "w1+": "0.149780716",
    "w2+": "0.19956143",
    "w3+": "0.24975114",
    "w4+": "0.29950229",
    "w5+": "0.35891648",
    "w6+": "0.408666186",
    "w7+": "0.511301270",
    "w8+": "0.561370121",
}


def build() -> MLP:
    """The post's network, with its weights and biases, via `MLP.from_weights`."""
    return MLP.from_weights(WEIGHTS, BIASES)


def one_step(model: MLP) -> tuple[dict[str, float], DeltaTable]:
    """Forward, backward and one SGD step on `model`; every figure of PUBLISHED, computed.

    Forward pass and gradients come from the engine (`backward()`); the
    per-neuron table from `delta_table`, the closed-form oracle.
    """
    table = delta_table(model, INPUTS, TARGETS)
    ys = model.outputs([Value(x, label=f"i{k + 1}") for k, x in enumerate(INPUTS)])  # two outputs: a list
    loss = sum_of([squared_error(y, t) for y, t in zip(ys, TARGETS, strict=True)])  # sum_k 1/2 (t_k - y_k)^2
    model.zero_grad()
    loss.backward()
    params = {p.label: p for p in model.parameters()}
    grads = {name: params[label].grad for name, label in WEIGHT_LABELS.items()}
    h1, o1 = table.row("L1.N0"), table.row("L2.N0")
    figures = {
        "net_h1": h1.net,
        "out_h1": h1.out,
        "out_h2": table.row("L1.N1").out,
        "net_o1": o1.net,
        "out_o1": ys[0].data,
        "out_o2": ys[1].data,
        "E_total": loss.data,
        "dE/dout_o1": o1.dE_dout,
        "dout_o1/dnet_o1": o1.out * (1 - o1.out),  # (1.3)
        "dE/dw5": grads["w5"],
        "dE/dout_h1": h1.dE_dout,
        "dout_h1/dnet_h1": h1.out * (1 - h1.out),  # (1.3)
        "dE/dw1": grads["w1"],
    }
    SGD(model.parameters(), lr=LEARNING_RATE).step()
    figures.update({f"{name}+": params[label].data for name, label in WEIGHT_LABELS.items()})
    return figures, table


def agrees(value: float, published: str) -> bool:
    """True when `value` rounds to `published` at the number of decimals published."""
    decimals = len(published.split(".")[1]) if "." in published else 0
    return f"{value:.{decimals}f}" == published


def report(figures: dict[str, float], table: DeltaTable) -> str:
    """The printout: forward pass, delta table, error and new weights beside the post's figures."""
    lines = ["Mazur's 2-2-2 network, one step at learning rate 0.5", "", str(table), ""]
    lines.append(f"{'figure':<16} {'autograd_mini':>20} {'published':>13}")
    sections = [
        ("forward pass (1.1), (1.2)", ["net_h1", "out_h1", "out_h2", "net_o1", "out_o1", "out_o2"]),
        ("total error (1.4)", ["E_total"]),
        ("gradients (1.5)-(1.9)", ["dE/dout_o1", "dout_o1/dnet_o1", "dE/dw5", "dE/dout_h1",
                                   "dout_h1/dnet_h1", "dE/dw1"]),
        ("weights after the step", [f"w{k}+" for k in range(1, 9)]),
    ]
    for title, names in sections:
        lines.append(f"-- {title}")
        for name in names:
            value, published = figures[name], PUBLISHED[name]
            verdict = "agrees" if agrees(value, published) else "DISAGREES"
            lines.append(f"{name:<16} {value:>20.15f} {published:>13}  {verdict}")
    count = sum(agrees(figures[n], p) for n, p in PUBLISHED.items())
    lines += ["", f"{count} of {len(PUBLISHED)} published figures agree to the digits published"]
    return "\n".join(lines)


def main() -> int:
    """Print the report; exit status 1 if any published figure disagrees."""
    figures, table = one_step(build())
    print(report(figures, table))
    return 0 if all(agrees(figures[n], p) for n, p in PUBLISHED.items()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
