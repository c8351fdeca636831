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
