# The paper's Table 2: KenLM n-gram models and n-NN models, scored per character like the
# recurrent models (same per-position Parquet), for every configured n.


rule ngram_model:
    input:
        train="results/{ds}/data/train.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("ngram_model"),
    output:
        "results/{ds}/baselines/ngram-{n}.binary",
    log:
        "results/{ds}/logs/ngram/model-{n}.log",
    benchmark:
        "results/{ds}/benchmarks/ngram/model-{n}.tsv"
    conda:
        "../../envs/kenlm.yaml"
    resources:
        mem_mb=lambda wildcards: 2
        * parse_memory_mb(config["baselines"]["ngram"]["memory"]),
        runtime=2 * 60,
    params:
        memory=config["baselines"]["ngram"]["memory"],
    script:
        "../scripts/ngram_model.py"


rule ngram_scores:
    input:
        model="results/{ds}/baselines/ngram-{n}.binary",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("ngram_scores"),
    output:
        "results/{ds}/eval/ngram-{n}.parquet",
    log:
        "results/{ds}/logs/ngram/scores-{n}.log",
    benchmark:
        "results/{ds}/benchmarks/ngram/scores-{n}.tsv"
    conda:
        "../../envs/kenlm.yaml"
    script:
        "../scripts/ngram_scores.py"


rule train_nnn:
    input:
        unpack(get_split_files),
        vocab="results/{ds}/data/vocab.json",
        code=code("train_nnn"),
    output:
        best="results/{ds}/runs/nnn-{n}/hidden-{hidden}/best.pt",
        log="results/{ds}/runs/nnn-{n}/hidden-{hidden}/train_log.csv",
    log:
        "results/{ds}/logs/train/nnn-{n}/hidden-{hidden}.log",
    benchmark:
        "results/{ds}/benchmarks/train/nnn-{n}/hidden-{hidden}.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=12 * 60,
    params:
        training=plan.nnn_training(config),
    script:
        "../scripts/train_nnn.py"


rule select_nnn:
    input:
        runs=get_nnn_runs,
        vocab="results/{ds}/data/vocab.json",
        code=code("select_model"),
    output:
        best="results/{ds}/models/nnn-{n}/best.pt",
        log="results/{ds}/models/nnn-{n}/train_log.csv",
        selection="results/{ds}/models/nnn-{n}/selection.json",
    log:
        "results/{ds}/logs/select/nnn-{n}.log",
    conda:
        "../../envs/pytorch.yaml"
    script:
        "../scripts/select_model.py"


rule baselines_table:
    input:
        evals=get_baseline_evals,
        test_losses="results/{ds}/tables/test_losses.csv",
        code=code("baselines_table"),
    output:
        table=in_report("results/{ds}/tables/baselines.csv", "table2"),
        figure=in_report("results/{ds}/figures/baselines.png", "table2"),
    log:
        "results/{ds}/logs/baselines_table.log",
    benchmark:
        "results/{ds}/benchmarks/baselines_table.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        bootstrap_samples=config["evaluation"]["bootstrap_samples"],
        bootstrap_seed=config["evaluation"]["bootstrap_seed"],
    script:
        "../scripts/baselines_table.py"
