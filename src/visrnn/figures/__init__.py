"""Stage ``analysis.smk`` (and ``seeds.smk``): one module per figure or table of the paper.

- Figure 1 left, test losses: ``losses``; Figure 1 right, t-SNE of agreement: ``agreement``
- Table 2, n-gram and n-NN baselines: ``baselines``
- Figure 2, interpretable cells, and Figure 3, gate saturation: ``visrnn.inside.cells`` and
  ``visrnn.inside.saturation`` (they read the activations)
- Figure 4, error overlap and per-character advantage: ``overlap``, ``advantage``
- Figure 5, closing braces and training dynamics: ``braces``, ``dynamics``
- Figure 6, error oracles: ``oracles`` (the peeling), ``oracle_figures`` (pie, scaling, pages)
- Spread over corpus shuffle seeds (ours, not the paper's): ``seed_spread``
"""
