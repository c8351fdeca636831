# How much the file draw of a kernel corpus matters: the same corpus, split and reference
# n-gram rules, run for other shuffle seeds under results/{ds}/seeds/{seed}/, and a table and
# figure of the n-gram's test loss over the seeds. The configured seed reuses the main run.


use rule corpus as corpus_seed with:
    output:
        corpus="results/{ds}/seeds/{seed}/data/corpus.bin",
        info="results/{ds}/seeds/{seed}/data/corpus.json",
    log:
        "results/{ds}/logs/seeds/{seed}/corpus.log",
    benchmark:
        "results/{ds}/benchmarks/seeds/{seed}/corpus.tsv"
    params:
        spec=get_seed_spec,
        search_dirs=config["corpus_dirs"],
        download_dir=config["download_dir"],


use rule split_corpus as split_corpus_seed with:
    input:
        corpus="results/{ds}/seeds/{seed}/data/corpus.bin",
        info="results/{ds}/seeds/{seed}/data/corpus.json",
        code=code("split_corpus"),
    output:
        train="results/{ds}/seeds/{seed}/data/train.npy",
        val="results/{ds}/seeds/{seed}/data/val.npy",
        test="results/{ds}/seeds/{seed}/data/test.npy",
        vocab="results/{ds}/seeds/{seed}/data/vocab.json",
        sizes="results/{ds}/seeds/{seed}/data/splits.csv",
        files="results/{ds}/seeds/{seed}/data/corpus_files.csv",
    log:
        "results/{ds}/logs/seeds/{seed}/split_corpus.log",
    benchmark:
        "results/{ds}/benchmarks/seeds/{seed}/split_corpus.tsv"


use rule ngram_model as ngram_model_seed with:
    input:
        train="results/{ds}/seeds/{seed}/data/train.npy",
        vocab="results/{ds}/seeds/{seed}/data/vocab.json",
        code=code("ngram_model"),
    output:
        "results/{ds}/seeds/{seed}/baselines/ngram-{n}.binary",
    log:
        "results/{ds}/logs/seeds/{seed}/ngram-model-{n}.log",
    benchmark:
        "results/{ds}/benchmarks/seeds/{seed}/ngram-model-{n}.tsv"


use rule ngram_scores as ngram_scores_seed with:
    input:
        model="results/{ds}/seeds/{seed}/baselines/ngram-{n}.binary",
        test="results/{ds}/seeds/{seed}/data/test.npy",
        vocab="results/{ds}/seeds/{seed}/data/vocab.json",
        code=code("ngram_scores"),
    output:
        "results/{ds}/seeds/{seed}/eval/ngram-{n}.parquet",
    log:
        "results/{ds}/logs/seeds/{seed}/ngram-scores-{n}.log",
    benchmark:
        "results/{ds}/benchmarks/seeds/{seed}/ngram-scores-{n}.tsv"


rule ngram_seeds:
    input:
        unpack(get_seed_draws),
        code=code("ngram_seeds"),
    output:
        table=in_report("results/{ds}/tables/ngram_seeds.csv", "data"),
        figure=in_report("results/{ds}/figures/ngram_seeds.png", "data"),
    log:
        "results/{ds}/logs/ngram_seeds.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        seeds=get_shuffle_seeds,
        reference_ngram=config["analysis"]["reference_ngram"],
        bootstrap_samples=config["evaluation"]["bootstrap_samples"],
        bootstrap_seed=config["evaluation"]["bootstrap_seed"],
    script:
        "../scripts/ngram_seeds.py"
