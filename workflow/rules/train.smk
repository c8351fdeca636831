# The model grid: solved hidden sizes, one training run per (model, dropout), and the
# selection of each model's best run on validation loss.


rule model_sizes:
    output:
        "results/{ds}/tables/model_sizes.csv",
    input:
        vocab="results/{ds}/data/vocab.json",
        code=code("grid", "data"),
    params:
        grid=config["grid"],
    log:
        "results/{ds}/logs/model_sizes.log",
    conda:
        "../../envs/pytorch.yaml"
    script:
        "../scripts/model_sizes.py"


rule train_model:
    output:
        best="results/{ds}/runs/{model}/dropout-{dropout}/best.pt",
        log="results/{ds}/runs/{model}/dropout-{dropout}/train_log.csv",
    input:
        unpack(split_files),
        vocab="results/{ds}/data/vocab.json",
        code=code("training", "grid", "devices", "data"),
    params:
        budgets=config["grid"]["budgets"],
        training=config["training"],
    threads: config["training"]["threads"]
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=24 * 60,
    log:
        "results/{ds}/logs/train/{model}/dropout-{dropout}.log",
    benchmark:
        "results/{ds}/benchmarks/train/{model}/dropout-{dropout}.tsv"
    conda:
        "../../envs/pytorch.yaml"
    script:
        "../scripts/train_model.py"


rule select_model:
    output:
        best="results/{ds}/models/{model}/best.pt",
        log="results/{ds}/models/{model}/train_log.csv",
        selection="results/{ds}/models/{model}/selection.json",
    input:
        runs=runs_of,
        code=code("selection"),
    log:
        "results/{ds}/logs/select/{model}.log",
    conda:
        "../../envs/pytorch.yaml"
    script:
        "../scripts/select_model.py"
