"""The explorer: LSTMVis's hypothesis / match / annotation workflow over the pipeline's dumps.

``store`` writes and reads the memory-mappable layout that ``rule explorer_*`` precomputes
under ``results/{ds}/explorer/``; ``queries`` holds the hypothesis, match, top-example and
precision/recall computations; ``server`` is the FastAPI app behind ``visrnn explore``.
"""
