# The long-range analyses, one rule per paper figure: agreement t-SNE (Fig. 1 right), error
# overlap and per-character advantage (Fig. 4), closing brace and training dynamics (Fig. 5)
# with the unit histories beside it, and the error oracles (Fig. 6).


rule agreement_tsne:
    input:
        evals=get_model_evals,
        code=code("agreement_tsne"),
    output:
        table=in_report("results/{ds}/tables/agreement.csv", "figure1"),
        figure=in_report(
            "results/{ds}/figures/agreement_tsne.png", "figure1", caption="agreement"
        ),
    log:
        "results/{ds}/logs/agreement_tsne.log",
    benchmark:
        "results/{ds}/benchmarks/agreement_tsne.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        seed=config["analysis"]["tsne_seed"],
    script:
        "../scripts/agreement_tsne.py"


rule error_overlap:
    input:
        test_losses="results/{ds}/tables/test_losses.csv",
        baselines="results/{ds}/tables/baselines.csv",
        evals=get_all_evals,
        code=code("error_overlap"),
    output:
        table=in_report("results/{ds}/tables/error_overlap.csv", "figure4"),
        figure=in_report("results/{ds}/figures/error_overlap.png", "figure4"),
    log:
        "results/{ds}/logs/error_overlap.log",
    benchmark:
        "results/{ds}/benchmarks/error_overlap.tsv"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/error_overlap.py"


rule char_advantage:
    input:
        test_losses="results/{ds}/tables/test_losses.csv",
        evals=get_model_evals,
        ngram=f"results/{{ds}}/eval/{REFERENCE_NGRAM}.parquet",
        vocab="results/{ds}/data/vocab.json",
        code=code("char_advantage"),
    output:
        table=in_report("results/{ds}/tables/char_advantage.csv", "figure4"),
        figure=in_report("results/{ds}/figures/char_advantage.png", "figure4"),
    log:
        "results/{ds}/logs/char_advantage.log",
    benchmark:
        "results/{ds}/benchmarks/char_advantage.tsv"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/char_advantage.py"


rule closing_brace:
    input:
        test_losses="results/{ds}/tables/test_losses.csv",
        evals=get_model_evals,
        ngram=f"results/{{ds}}/eval/{REFERENCE_NGRAM}.parquet",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("closing_brace"),
    output:
        table=in_report("results/{ds}/tables/closing_brace.csv", "figure5"),
        figure=in_report("results/{ds}/figures/closing_brace.png", "figure5"),
    log:
        "results/{ds}/logs/closing_brace.log",
    benchmark:
        "results/{ds}/benchmarks/closing_brace.tsv"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/closing_brace.py"


rule dynamics_snapshots:
    input:
        unpack(get_split_files),
        vocab="results/{ds}/data/vocab.json",
        selection=f"results/{{ds}}/models/{DYNAMICS_MODEL}/selection.json",
        code=code("dynamics_snapshots"),
    output:
        snapshots=directory("results/{ds}/dynamics/snapshots"),
        log="results/{ds}/dynamics/train_log.csv",
    log:
        "results/{ds}/logs/dynamics_snapshots.log",
    benchmark:
        "results/{ds}/benchmarks/dynamics_snapshots.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=6 * 60,
    params:
        model=DYNAMICS_MODEL,
        budgets=config["grid"]["budgets"],
        gru_variant=config["grid"]["gru_variant"],
        training=config["training"],
        dynamics=config["analysis"].get("dynamics", {}),
    script:
        "../scripts/dynamics_snapshots.py"


rule training_dynamics:
    input:
        snapshots="results/{ds}/dynamics/snapshots",
        nnn=get_nnn_checkpoints,
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("training_dynamics"),
    output:
        table=in_report("results/{ds}/tables/training_dynamics.csv", "figure5"),
        figure=in_report("results/{ds}/figures/training_dynamics.png", "figure5"),
    log:
        "results/{ds}/logs/training_dynamics.log",
    benchmark:
        "results/{ds}/benchmarks/training_dynamics.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=2 * 60,
    params:
        model=DYNAMICS_MODEL,
    script:
        "../scripts/training_dynamics.py"


rule unit_histories:
    input:
        unpack(get_unit_history_inputs),
        code=code("unit_histories"),
    output:
        table=in_report("results/{ds}/tables/unit_histories.csv", "figure5"),
        figure=in_report("results/{ds}/figures/unit_histories.png", "figure5"),
    log:
        "results/{ds}/logs/unit_histories.log",
    benchmark:
        "results/{ds}/benchmarks/unit_histories.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        model=DYNAMICS_MODEL,
        code=get_dataset_code,
        max_chars=config["activations"]["max_chars"],
    script:
        "../scripts/unit_histories.py"


rule error_oracles:
    input:
        unpack(get_split_files),
        test_losses="results/{ds}/tables/test_losses.csv",
        evals=get_oracle_evals,
        vocab="results/{ds}/data/vocab.json",
        code=code("error_oracles"),
    output:
        table=in_report("results/{ds}/tables/oracles.csv", "figure6"),
        comparison=in_report("results/{ds}/tables/oracles_comparison.csv", "figure6"),
        pie_large=in_report(
            "results/{ds}/figures/oracles_pie_large.png", "figure6", caption="oracles"
        ),
        pie_small=in_report(
            "results/{ds}/figures/oracles_pie_small.png", "figure6", caption="oracles"
        ),
        scaling=in_report("results/{ds}/figures/oracles_scaling.png", "figure6"),
        examples_large=in_report(
            "results/{ds}/figures/oracles_examples_large.html",
            "figure6",
            caption="oracles_examples",
        ),
        examples_small=in_report(
            "results/{ds}/figures/oracles_examples_small.html",
            "figure6",
            caption="oracles_examples",
        ),
    log:
        "results/{ds}/logs/error_oracles.log",
    benchmark:
        "results/{ds}/benchmarks/error_oracles.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        oracles=config["analysis"]["oracles"],
    script:
        "../scripts/error_oracles.py"
