"""Stages ``evaluate.smk`` and ``baselines.smk``: per-position scoring of a model over the test
split (``evaluation``), the per-position Parquet contract and bootstrap (``scores``), the KenLM
n-gram baselines (``ngram``), and the rules of choice shared by the figures and the scorecard
(``choice``: what counts as an error, which model is "the best")."""
