"""Views of a graph that only read it: `draw` (graphviz), `explain` (the chain-rule
paths, (1.5)/(1.8)), `derivation` (the delta form of an MLP's paths) and the HTML
`explorer`. `render` runs graphviz's `dot`; `neurons` groups nodes by neuron.
"""
