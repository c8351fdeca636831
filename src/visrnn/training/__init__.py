"""Stage ``workflow/rules/train.smk``: the training loop (``loop``) and the choice of each
model's best run on validation loss (``selection``)."""
