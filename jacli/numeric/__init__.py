"""Numbers: the reference evaluator, the structured evaluator, random draws, the oracle."""
