# What a cell is worth: the best LSTM's top-ranked cell of each structural signal, and a
# random cell of its layer as control, silenced in turn while the test split is rescored
# (docs/ablation.md).


rule ablation:
    input:
        unpack(get_ablation_inputs),
        code=code("ablation"),
    output:
        table=in_report("results/{ds}/tables/ablation.csv", "ablation"),
        figure=in_report("results/{ds}/figures/ablation.png", "ablation"),
    log:
        "results/{ds}/logs/ablation.log",
    benchmark:
        "results/{ds}/benchmarks/ablation.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=600,
    params:
        code=get_dataset_code,
        oracles=get_explorer_oracles,
        silence=config["analysis"]["ablation"]["silence"],
        seed=config["analysis"]["ablation"]["seed"],
    script:
        "../scripts/ablation.py"


# What a cell writes: the best LSTM samples with each signal's top-ranked cells free, held on
# and held off (same seed), and the signal is measured on the samples (docs/ablation.md).


rule clamped_samples:
    input:
        unpack(get_clamped_samples_inputs),
        code=code("clamped_samples"),
    output:
        table=in_report("results/{ds}/tables/clamped_samples.csv", "ablation"),
        page=in_report("results/{ds}/figures/clamped_samples.html", "ablation"),
    log:
        "results/{ds}/logs/clamped_samples.log",
    benchmark:
        "results/{ds}/benchmarks/clamped_samples.tsv"
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=60,
    params:
        code=get_dataset_code,
        settings=config["analysis"]["clamped_samples"],
    script:
        "../scripts/clamped_samples.py"
