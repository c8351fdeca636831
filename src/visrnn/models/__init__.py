"""The models: the grid of ids and budgets (``grid``), the gate equations (``gates``), the
recurrent models (``recurrent``), the n-NN baseline (``nnn``) and checkpoint files
(``checkpoints``)."""
