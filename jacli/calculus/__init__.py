"""The calculus: the operator registry, shapes, the chain rule and simplification."""
