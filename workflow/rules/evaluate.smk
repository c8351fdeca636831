# Every model scores the whole test split (state carried), one Parquet per model; the test
# losses with bootstrap spread make the paper's Figure 1 (left).


rule evaluate_model:
    input:
        checkpoint="results/{ds}/models/{model}/best.pt",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("evaluate_model"),
    output:
        "results/{ds}/eval/{model}.parquet",
    log:
        "results/{ds}/logs/evaluate/{model}.log",
    benchmark:
        "results/{ds}/benchmarks/evaluate/{model}.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=60,
    params:
        gru_variant=config["grid"]["gru_variant"],
    script:
        "../scripts/evaluate_model.py"


rule test_losses:
    input:
        evals=get_model_evals,
        selections=get_model_selections,
        sizes="results/{ds}/tables/model_sizes.csv",
        code=code("test_losses"),
    output:
        table=in_report("results/{ds}/tables/test_losses.csv", "figure1"),
        figure=in_report("results/{ds}/figures/test_losses.png", "figure1"),
    log:
        "results/{ds}/logs/test_losses.log",
    benchmark:
        "results/{ds}/benchmarks/test_losses.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        bootstrap_samples=config["evaluation"]["bootstrap_samples"],
        bootstrap_seed=config["evaluation"]["bootstrap_seed"],
    script:
        "../scripts/test_losses.py"
