"""Figure 6: peel the errors of two LSTMs with oracles, and compare what scaling up removed."""

from pathlib import Path

from visrnn.common.files import read_table, write_csv
from visrnn.common.runner import script
from visrnn.data.splits import Vocab, load_split
from visrnn.figures.oracle_figures import (
    plot_oracle_pie,
    plot_scaling,
    render_examples,
    write_examples,
)
from visrnn.figures.oracles import (
    COMPARISON_COLUMNS,
    ORACLE_COLUMNS,
    TextWords,
    compare_models,
    oracle_rows,
    oracles,
    peel,
    scaling_summary,
    select_model,
)
from visrnn.scoring.choice import ERROR_THRESHOLD
from visrnn.scoring.scores import read_comparable, require_test_split

with script(snakemake) as log:
    settings = snakemake.params.oracles
    test_losses = read_table(snakemake.input.test_losses)
    chosen = {
        role: select_model(test_losses, settings["models"][role]) for role in ("large", "small")
    }
    log.info("oracles for %s", ", ".join(f"{role} {model}" for role, model in chosen.items()))
    paths = {Path(path).stem: path for path in snakemake.input.evals}
    ngram_paths = [paths[f"ngram-{n}"] for n in settings.get("ngram", [])]
    scores = read_comparable([paths[model] for model in chosen.values()] + ngram_paths)
    test_ids = load_split(snakemake.input.test)
    require_test_split(scores[0], test_ids, paths[chosen["large"]], snakemake.input.test)
    vocab = Vocab.load(snakemake.input.vocab)
    test = TextWords.build(
        vocab.decode(test_ids),
        vocab.decode(load_split(snakemake.input.train)),
        max_memory=max(settings.get("memory", [0])),
    )
    ngram = {n: s.p_target for n, s in zip(settings.get("ngram", []), scores[2:], strict=True)}
    rows_by_role = {}
    for (role, model), model_scores in zip(chosen.items(), scores[:2], strict=True):
        steps = peel(
            model_scores.p_target < ERROR_THRESHOLD,
            oracles(test, model_scores.p_target, ngram, settings),
        )
        rows_by_role[role] = oracle_rows(model, role, steps, len(model_scores.target))
        plot_oracle_pie(
            rows_by_role[role], len(model_scores.target), snakemake.output[f"pie_{role}"]
        )
        write_examples(
            snakemake.output[f"examples_{role}"],
            render_examples(
                test, steps, f"{model}: errors by oracle category", settings["examples"]
            ),
        )
        log.info(
            "%s: %d errors in %d categories",
            model,
            sum(r["errors_removed"] for r in rows_by_role[role]),
            len(steps),
        )
    write_csv(snakemake.output.table, rows_by_role["large"] + rows_by_role["small"], ORACLE_COLUMNS)
    comparison = compare_models(rows_by_role["small"], rows_by_role["large"])
    write_csv(snakemake.output.comparison, comparison, COMPARISON_COLUMNS)
    summary = scaling_summary(comparison)
    plot_scaling(comparison, summary, snakemake.output.scaling)
    log.info("%s", summary)
