# Inside the networks: activation dumps (cell, hidden, gates) for the explorer and the cell
# pages, gate saturation over the full test split (Figure 3), interpretable cells (Figure 2).


rule dump_activations:
    input:
        checkpoint="results/{ds}/models/{model}/best.pt",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("dump_activations"),
    output:
        "results/{ds}/activations/{model}.parquet",
    log:
        "results/{ds}/logs/activations/{model}.log",
    benchmark:
        "results/{ds}/benchmarks/activations/{model}.tsv"
    wildcard_constraints:
        model=plan.GRID_MODEL,
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        max_chars=config["activations"]["max_chars"],
        row_group=config["activations"]["row_group"],
        gru_variant=config["grid"]["gru_variant"],
    script:
        "../scripts/dump_activations.py"


rule dump_best_activations:
    input:
        unpack(get_best_of_type_sources),
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("dump_activations"),
    output:
        "results/{ds}/activations/best-{type}.parquet",
    log:
        "results/{ds}/logs/activations/best-{type}.log",
    benchmark:
        "results/{ds}/benchmarks/activations/best-{type}.tsv"
    wildcard_constraints:
        type=plan.MODEL_TYPE,
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        mem_mb=2000,
        runtime=600,
    params:
        max_chars=None,  # the whole test split
        row_group=config["activations"]["row_group"],
        gru_variant=config["grid"]["gru_variant"],
    script:
        "../scripts/dump_activations.py"


rule gate_saturation:
    input:
        checkpoint="results/{ds}/models/{model}/best.pt",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("gate_saturation"),
    output:
        "results/{ds}/saturation/{model}.csv",
    log:
        "results/{ds}/logs/saturation/{model}.log",
    benchmark:
        "results/{ds}/benchmarks/saturation/{model}.tsv"
    wildcard_constraints:
        model=plan.GATED_MODEL,
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    params:
        gru_variant=config["grid"]["gru_variant"],
    script:
        "../scripts/gate_saturation.py"


rule saturation_figures:
    input:
        counts=get_gated_saturation,
        test_losses="results/{ds}/tables/test_losses.csv",
        code=code("saturation_figures"),
    output:
        table=in_report("results/{ds}/tables/gate_saturation.csv", "figure3"),
        figures=in_report(
            directory("results/{ds}/figures/saturation"),
            "figure3",
            patterns=["{name}.png"],
        ),
    log:
        "results/{ds}/logs/saturation_figures.log",
    benchmark:
        "results/{ds}/benchmarks/saturation_figures.tsv"
    conda:
        "../../envs/pytorch.yaml"
    script:
        "../scripts/saturation_figures.py"


rule interpretable_cells:
    input:
        dumps=get_lstm_activations,
        test_losses="results/{ds}/tables/test_losses.csv",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("interpretable_cells"),
    output:
        table=in_report("results/{ds}/tables/cell_ranking.csv", "figure2"),
        pages=in_report(
            directory("results/{ds}/figures/cells"), "figure2", htmlindex="index.html"
        ),
    log:
        "results/{ds}/logs/interpretable_cells.log",
    benchmark:
        "results/{ds}/benchmarks/interpretable_cells.tsv"
    conda:
        "../../envs/pytorch.yaml"
    params:
        code=get_dataset_code,
        top_k=config["analysis"]["cells_top_k"],
        render_chars=config["analysis"]["cells_render_chars"],
    script:
        "../scripts/interpretable_cells.py"


rule dump_run_activations:
    input:
        checkpoint="results/{ds}/runs/{model}/dropout-{dropout}/best.pt",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("dump_activations"),
    output:
        "results/{ds}/activations/runs/{model}/dropout-{dropout}.parquet",
    log:
        "results/{ds}/logs/activations/runs/{model}/dropout-{dropout}.log",
    benchmark:
        "results/{ds}/benchmarks/activations/runs/{model}/dropout-{dropout}.tsv"
    wildcard_constraints:
        model=plan.GRID_MODEL,
    conda:
        "../../envs/pytorch.yaml"
    threads: 1  # batch-1 recurrence: more threads only wait on each other
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        max_chars=config["activations"]["max_chars"],
        row_group=config["activations"]["row_group"],
        gru_variant=config["grid"]["gru_variant"],
    script:
        "../scripts/dump_activations.py"


rule atlas:
    input:
        unpack(get_atlas_inputs),
        code=code("atlas"),
    output:
        table=in_report("results/{ds}/tables/atlas.csv", "atlas"),
        figure=in_report("results/{ds}/figures/atlas.png", "atlas"),
    log:
        "results/{ds}/logs/atlas.log",
    benchmark:
        "results/{ds}/benchmarks/atlas.tsv"
    conda:
        "../../envs/pytorch.yaml"
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        runs=get_atlas_runs,
        code=get_dataset_code,
        threshold=config["analysis"]["atlas_threshold"],
    script:
        "../scripts/atlas.py"
