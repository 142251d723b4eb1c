"""Views of a graph that only read it: `draw` (graphviz; `dotgraph` writes the DOT, `render`
runs `dot`), `explain` (the chain rule's `paths`, (1.5)/(1.8)), `derivation` (those paths in
an MLP's delta form), `neurons` (which neuron and example a node belongs to) and the HTML `explorer`.
"""
