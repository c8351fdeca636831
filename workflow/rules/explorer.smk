# The explorer (visrnn explore RESULTS_DIR): the test text with its annotation tracks, and
# each dumped model in a unit-major memory-mappable layout, so that a match query reads only
# the selected units' rows.


rule explorer_text:
    input:
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        ngram=f"results/{{ds}}/eval/{REFERENCE_NGRAM}.parquet",
        code=code("explorer_text"),
    output:
        directory("results/{ds}/explorer/text"),
    log:
        "results/{ds}/logs/explorer/text.log",
    benchmark:
        "results/{ds}/benchmarks/explorer/text.tsv"
    conda:
        "../../envs/pytorch.yaml"
    params:
        code=get_dataset_code,
    script:
        "../scripts/explorer_text.py"


rule explorer_model:
    input:
        unpack(get_explorer_model_sources),
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        code=code("explorer_model"),
    output:
        directory("results/{ds}/explorer/models/{model}"),
    log:
        "results/{ds}/logs/explorer/{model}.log",
    benchmark:
        "results/{ds}/benchmarks/explorer/{model}.tsv"
    wildcard_constraints:
        model=f"{plan.GRID_MODEL}|{plan.BEST_MODEL}",
    conda:
        "../../envs/pytorch.yaml"
    resources:
        mem_mb=2000,
    params:
        oracles=get_explorer_oracles,
        gru_variant=config["grid"]["gru_variant"],
    script:
        "../scripts/explorer_model.py"
