"""visrnn: reproduce *Visualizing and Understanding Recurrent Networks* (Karpathy et al., 2015).

One module per concept; the Snakemake rules in ``workflow/`` call them through thin scripts.
"""

__version__ = "0.1.0"
