# Corpora to splits: locate (or download) each source by checksum, build the corpus bytes,
# then the vocabulary and the train/val/test id arrays every later stage reads.


rule corpus:
    input:
        source=get_corpus_source,
        code=code("corpus"),
    output:
        corpus="results/{ds}/data/corpus.bin",
        info="results/{ds}/data/corpus.json",
    log:
        "results/{ds}/logs/corpus.log",
    benchmark:
        "results/{ds}/benchmarks/corpus.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        spec=lambda wildcards: plan.corpus_spec(config, wildcards.ds),
        search_dirs=config["corpus_dirs"],
        download_dir=config["download_dir"],
    script:
        "../scripts/corpus.py"


rule split_corpus:
    input:
        corpus="results/{ds}/data/corpus.bin",
        info="results/{ds}/data/corpus.json",
        code=code("split_corpus"),
    output:
        train="results/{ds}/data/train.npy",
        val="results/{ds}/data/val.npy",
        test="results/{ds}/data/test.npy",
        vocab="results/{ds}/data/vocab.json",
        sizes=in_report("results/{ds}/tables/splits.csv", "data"),
        files=in_report("results/{ds}/tables/corpus_files.csv", "data"),
    log:
        "results/{ds}/logs/split_corpus.log",
    benchmark:
        "results/{ds}/benchmarks/split_corpus.tsv"
    conda:
        "../../envs/analysis.yaml"
    params:
        split=lambda wildcards: config["datasets"][wildcards.ds]["split"],
        kind=lambda wildcards: config["datasets"][wildcards.ds]["kind"],
    script:
        "../scripts/split_corpus.py"
