"""Stage ``workflow/rules/data.smk``: the corpora (``corpora``: locate, download, build) and
their vocabulary and train / validation / test splits (``splits``)."""
