"""Files and bindings: NAME=SPEC, readers, writers."""
