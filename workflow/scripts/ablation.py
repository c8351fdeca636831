"""What a cell is worth: silence the best LSTM's top-ranked cell of each signal, and a random
control, and rescore the test split (tables/ablation.csv, figures/ablation.png)."""

from pathlib import Path

from visrnn.common.devices import acquire_device
from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.figures.oracles import TextWords
from visrnn.inside.ablation import (
    ABLATION_COLUMNS,
    ablate,
    ablation_rows,
    ablations,
    error_families,
    plot_ablation,
)
from visrnn.inside.signals import structural_signals
from visrnn.models.checkpoints import load_checkpoint
from visrnn.scoring.choice import best_model
from visrnn.scoring.scores import read_comparable, require_test_split

with script(snakemake) as log:
    lstm = best_model(read_table(snakemake.input.test_losses), "lstm")
    vocab = Vocab.load(snakemake.input.vocab)
    checkpoint = next(p for p in snakemake.input.checkpoints if Path(p).parent.name == lstm)
    scores_path = next(p for p in snakemake.input.scores if Path(p).stem == lstm)
    intact, reference = read_comparable([scores_path, snakemake.input.reference])
    test_ids = load_split(snakemake.input.test)
    require_test_split(intact, test_ids, scores_path, snakemake.input.test)
    text = vocab.decode(test_ids)
    with acquire_device() as slot:
        model, _ = load_checkpoint(
            checkpoint, slot.device, model_id=lstm, vocab_sha256=vocab.sha256
        )
        chosen = ablations(
            read_table(snakemake.input.ranking),
            model.config.hidden_size,
            snakemake.params.silence,
            snakemake.params.seed,
        )
        log.info("%s: %d ablations over %d test positions", lstm, len(chosen), len(test_ids) - 1)
        base, ablated = ablate(model, intact, test_ids, chosen)
    log.info(
        "%s: loss %.5f step by step, %.5f in its eval scores (fused kernels)",
        lstm,
        base.loss,
        intact.loss,
    )
    families = None
    if snakemake.params.oracles:  # Figure 6's categories
        settings = snakemake.params.oracles
        ngrams = read_comparable(snakemake.input.ngrams)
        test = TextWords.build(
            text,
            vocab.decode(load_split(snakemake.input.train)),
            max_memory=max(settings.get("memory", [0])),
        )
        ngram = {n: s.p_target for n, s in zip(settings["ngram"], ngrams, strict=True)}
        families = error_families(test, ngram, settings)
    signals = structural_signals(text, code=snakemake.params.code)
    rows = ablation_rows(lstm, chosen, base, ablated, text, signals, reference, families)
    write_csv(snakemake.output.table, rows, ABLATION_COLUMNS)
    plot_ablation(rows, snakemake.output.figure)
