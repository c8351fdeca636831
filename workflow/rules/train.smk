# The model grid: solved hidden sizes, one training run per (model, dropout), and the
# selection of each model's best run on validation loss.


rule model_sizes:
    input:
        vocab="results/{ds}/data/vocab.json",
        code=code("model_sizes"),
    output:
        in_report("results/{ds}/tables/model_sizes.csv", "figure1"),
    log:
        "results/{ds}/logs/model_sizes.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        grid=config["grid"],
    script:
        "../scripts/model_sizes.py"


rule train_model:
    input:
        unpack(get_split_files),
        vocab="results/{ds}/data/vocab.json",
        code=code("train_model"),
    output:
        best="results/{ds}/runs/{model}/dropout-{dropout}/best.pt",
        log="results/{ds}/runs/{model}/dropout-{dropout}/train_log.csv",
    log:
        "results/{ds}/logs/train/{model}/dropout-{dropout}.log",
    benchmark:
        "results/{ds}/benchmarks/train/{model}/dropout-{dropout}.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=24 * 60,
    params:
        budgets=config["grid"]["budgets"],
        gru_variant=config["grid"]["gru_variant"],
        training=config["training"],
    script:
        "../scripts/train_model.py"


rule select_model:
    input:
        runs=get_grid_runs,
        vocab="results/{ds}/data/vocab.json",
        code=code("select_model"),
    output:
        best="results/{ds}/models/{model}/best.pt",
        log="results/{ds}/models/{model}/train_log.csv",
        selection="results/{ds}/models/{model}/selection.json",
    log:
        "results/{ds}/logs/select/{model}.log",
    wildcard_constraints:
        model=plan.GRID_MODEL,
    conda:
        "../../envs/pytorch.yaml"
    script:
        "../scripts/select_model.py"
