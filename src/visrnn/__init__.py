"""visrnn: reproduce *Visualizing and Understanding Recurrent Networks* (Karpathy et al., 2015).

A subpackage per stage of the workflow (``data``, ``models``, ``training``, ``scoring``,
``inside``, ``figures``: one module per figure of the paper, ``explorer``), shared helpers in
``common``; the Snakemake rules in ``workflow/`` call them through thin scripts.
"""

__version__ = "0.1.0"
