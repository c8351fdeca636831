"""Stages ``activations.smk`` and part of ``analysis.smk``: inside the networks. Activation
dumps (``activations``), gate saturation (``saturation``, Figure 3), the structural signals of
the text (``signals``) and the interpretable cells (``cells``, Figure 2)."""
