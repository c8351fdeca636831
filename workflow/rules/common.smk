# Shared by all the rule files (config validation, the model grid, input functions, and the
# package source files each stage depends on).

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SRC = Path(workflow.basedir) / "src"
# Scripts import the package from this checkout, whatever else is installed. (The workflow
# sets this variable; it needs none from the user.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
)
sys.path.insert(0, str(SRC))

from visrnn.common.configuration import check_config, schema_error_message  # noqa: E402
from visrnn.common.devices import RUNS_PER_GPU_ENV, pack_gpu_pool  # noqa: E402

try:
    validate(config, schema="../schemas/config.schema.yaml", set_default=True)
except WorkflowError as error:
    # One key and its allowed values, not the whole schema and config.
    raise WorkflowError(schema_error_message(error)) from None
from visrnn.common.sources import script_sources  # noqa: E402
from visrnn.models.grid import model_grid  # noqa: E402

check_config(config)

# GPU packing (README, GPU box): K jobs per device, so `--resources gpu=N` (N devices) becomes
# a pool of N * K jobs, and every GPU job learns K from the environment (set anew wherever
# the Snakefile is read: locally and inside each cluster job). Not a params: no reruns.
os.environ[RUNS_PER_GPU_ENV] = str(config["devices"]["runs_per_gpu"])
pack_gpu_pool(workflow.global_resources, config["devices"]["runs_per_gpu"])

DATASETS = list(config["datasets"])
GRID = model_grid(
    config["grid"]["types"], config["grid"]["layers"], list(config["grid"]["budgets"])
)
MODELS = [spec.model_id for spec in GRID]


GRID_MODEL = r"(rnn|lstm|gru)-[0-9]+L-[0-9a-z.]+"
NGRAM_N = config["baselines"]["ngram"]["n"]
NNN_N = config["baselines"]["nnn"]["n"]
DYNAMICS_MODEL = config["analysis"].get("dynamics", {}).get("model")


wildcard_constraints:
    ds="|".join(DATASETS),
    model=rf"{GRID_MODEL}|nnn-[0-9]+",
    dropout=r"[0-9.]+",
    n=r"[0-9]+",
    hidden=r"[0-9]+",
    seed=r"[0-9]+",


def dropout_tag(dropout):
    """Directory-name form of a dropout value: 0.0 -> 0, 0.25 -> 0.25."""
    return f"{float(dropout):g}"


# The report's sections (snakemake --report): one per figure or table of the paper, and ours.
REPORT_SECTIONS = {
    "data": "Data",
    "figure1": "Figure 1: model comparison",
    "table2": "Table 2: n-gram and n-NN baselines",
    "figure2": "Figure 2: interpretable cells",
    "figure3": "Figure 3: gate saturation",
    "figure4": "Figure 4: errors",
    "figure5": "Figure 5: long-range dependencies",
    "figure6": "Figure 6: error oracles",
    "scorecard": "Scorecard: this run against the paper",
}


def in_report(path, section, caption=None, per_dataset=True, **options):
    """Output ``path`` as a result of the report, in ``section`` (REPORT_SECTIONS), by dataset
    unless ``per_dataset`` is false. Its caption is workflow/report/<caption>.rst, by default
    tables/<name>.rst for a table (.csv) and <name>.rst for the rest, <name> being the file
    name without its extension. ``options``: report()'s others (patterns, htmlindex)."""
    name = Path(str(path)).stem
    if caption is None:
        caption = f"tables/{name}" if str(path).endswith(".csv") else name
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=REPORT_SECTIONS[section],
        subcategory="{ds}" if per_dataset else None,
        **options,
    )


SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


# Modules whose edit cannot change the results: logging and thread set-up, atomic file
# writes, GPU slots. They are no job's inputs, so editing them reruns nothing (README: how to
# force a rerun).
NOT_RESULT_MODULES = {
    "visrnn.common.runner",
    "visrnn.common.files",
    "visrnn.common.devices",
}


def code(script):
    """A script and every visrnn source file it imports, directly or not, that can change
    what it writes (all but NOT_RESULT_MODULES), module by module
    (visrnn.common.sources).

    Snakemake does not follow imports; listing these files as inputs makes an edit to a
    stage's code rerun that stage and what depends on it, and nothing else.
    """
    script_path = SCRIPTS / f"{script}.py"
    return [str(script_path)] + [
        str(path) for path in script_sources(script_path, SRC, NOT_RESULT_MODULES)
    ]


def get_corpus_source(wildcards):
    """A dataset's own corpus file (``source: {path: ...}``) as an input of rule corpus, so
    that editing it reruns everything it feeds. A source pinned by sha256 needs none: the
    checksum, a parameter of the rule, fixes its content."""
    path = config["datasets"][wildcards.ds]["source"].get("path")
    return [path] if path else []


def split_files(wildcards):
    return {
        split: f"results/{wildcards.ds}/data/{split}.npy"
        for split in ("train", "val", "test")
    }


def runs_of(wildcards):
    """Training runs among which a grid model is selected: one per dropout value."""
    return [
        f"results/{wildcards.ds}/runs/{wildcards.model}/dropout-{dropout_tag(d)}/best.pt"
        for d in config["grid"]["dropouts"]
    ]


def nnn_runs(wildcards):
    """Training runs among which an n-NN is selected: one per hidden size."""
    return [
        f"results/{wildcards.ds}/runs/nnn-{wildcards.n}/hidden-{hidden}/best.pt"
        for hidden in config["baselines"]["nnn"]["hidden_sizes"]
    ]


def nnn_training_config():
    """The n-NN trains like the recurrent models, with its own number of epochs if set."""
    epochs = config["baselines"]["nnn"].get("epochs")
    return {**config["training"], **({"epochs": epochs} if epochs else {})}


def parse_memory_mb(size):
    """Megabytes of a KenLM memory size such as 2G or 500M."""
    factor = {"K": 1 / 1024, "M": 1, "G": 1024}[size[-1]]
    return int(float(size[:-1]) * factor)


def model_evals(ds):
    return [f"results/{ds}/eval/{model}.parquet" for model in MODELS]


def baseline_evals(ds):
    return [f"results/{ds}/eval/ngram-{n}.parquet" for n in NGRAM_N] + [
        f"results/{ds}/eval/nnn-{n}.parquet" for n in NNN_N
    ]


def oracle_evals(ds):
    """Scores the error oracles read: every LSTM (the two compared are chosen by test loss)
    and the n-gram baselines of the n-gram oracles."""
    oracles = config["analysis"]["oracles"]
    lstms = [
        f"results/{ds}/eval/{spec.model_id}.parquet"
        for spec in GRID
        if spec.model_type == "lstm"
    ]
    return lstms + [f"results/{ds}/eval/ngram-{n}.parquet" for n in oracles["ngram"]]


def nnn_checkpoints(ds):
    return [f"results/{ds}/models/nnn-{n}/best.pt" for n in NNN_N]


def gated_saturation(ds):
    return [
        f"results/{ds}/saturation/{spec.model_id}.csv"
        for spec in GRID
        if spec.model_type in ("lstm", "gru")
    ]


def lstm_activations(ds):
    return [
        f"results/{ds}/activations/{spec.model_id}.parquet"
        for spec in GRID
        if spec.model_type == "lstm"
    ]


FULL_TEST = [
    t for t in config["activations"]["full_test"] if t in config["grid"]["types"]
]


def best_of_type_sources(wildcards):
    """What dump_best_activations chooses among: every grid model of the type."""
    return {
        "checkpoints": [
            f"results/{wildcards.ds}/models/{spec.model_id}/best.pt"
            for spec in GRID
            if spec.model_type == wildcards.type
        ],
        "test_losses": f"results/{wildcards.ds}/tables/test_losses.csv",
    }


def explorer_model_sources(wildcards):
    """A dump and what the explorer needs beside it: the model's checkpoint (its decoder)
    and eval scores; for best-<type>, those of every model of the type (the script takes
    the one the dump names)."""
    ds, model = wildcards.ds, wildcards.model
    if model.startswith("best-"):
        ids = [s.model_id for s in GRID if s.model_type == model.removeprefix("best-")]
    else:
        ids = [model]
    sources = {
        "dump": f"results/{ds}/activations/{model}.parquet",
        "checkpoints": [f"results/{ds}/models/{i}/best.pt" for i in ids],
        "scores": [f"results/{ds}/eval/{i}.parquet" for i in ids],
    }
    if ds in config["analysis"]["oracles"]["datasets"]:  # the Figure 6 error categories
        sources["train"] = f"results/{ds}/data/train.npy"
        sources["ngrams"] = [
            f"results/{ds}/eval/ngram-{n}.parquet"
            for n in config["analysis"]["oracles"]["ngram"]
        ]
    return sources


def explorer_oracles(wildcards):
    """The error-oracle settings for a dataset the oracles run on, else None."""
    oracles = config["analysis"]["oracles"]
    return oracles if wildcards.ds in oracles["datasets"] else None


def model_selections(ds):
    return [f"results/{ds}/models/{model}/selection.json" for model in MODELS]


def final_outputs():
    """Every table and figure of every dataset: what `snakemake` with no target builds."""
    outputs = []
    for ds in DATASETS:
        outputs += [
            f"results/{ds}/tables/model_sizes.csv",
            f"results/{ds}/tables/test_losses.csv",
            f"results/{ds}/figures/test_losses.png",
            f"results/{ds}/tables/baselines.csv",
            f"results/{ds}/tables/best_models.csv",
            f"results/{ds}/tables/agreement.csv",
            f"results/{ds}/tables/error_overlap.csv",
            f"results/{ds}/tables/char_advantage.csv",
            f"results/{ds}/tables/gate_saturation.csv",
            f"results/{ds}/tables/cell_ranking.csv",
        ]
        outputs += [f"results/{ds}/activations/{model}.parquet" for model in MODELS]
        outputs.append(f"results/{ds}/explorer/text")
        # The explorer's copies of the best model of each full_test type; any other grid
        # model's is one target away: results/{ds}/explorer/models/{model}
        outputs += [f"results/{ds}/explorer/models/best-{t}" for t in FULL_TEST]
        if config["datasets"][ds]["code"]:
            outputs.append(f"results/{ds}/tables/closing_brace.csv")
        if DYNAMICS_MODEL:
            outputs.append(f"results/{ds}/tables/training_dynamics.csv")
        if ds in config["analysis"]["oracles"]["datasets"]:
            outputs.append(f"results/{ds}/tables/oracles.csv")
        if ds in kernel_datasets():
            outputs.append(f"results/{ds}/tables/ngram_seeds.csv")
    return outputs + ["results/scorecard.csv", "results/scorecard.md"]


def scorecard_tables():
    """dataset -> table name -> path of every table the scorecard reads that this config
    makes."""
    tables = {}
    for ds in DATASETS:
        names = {
            "corpus": "data/corpus.json",
            "splits": "tables/splits.csv",
            "corpus_files": "tables/corpus_files.csv",
            "model_sizes": "tables/model_sizes.csv",
            "test_losses": "tables/test_losses.csv",
            "baselines": "tables/baselines.csv",
            "agreement": "tables/agreement.csv",
            "gate_saturation": "tables/gate_saturation.csv",
        }
        if config["datasets"][ds]["code"]:
            names["closing_brace"] = "tables/closing_brace.csv"
        if DYNAMICS_MODEL:
            names["training_dynamics"] = "tables/training_dynamics.csv"
        if ds in config["analysis"]["oracles"]["datasets"]:
            names["oracles"] = "tables/oracles.csv"
            names["oracles_comparison"] = "tables/oracles_comparison.csv"
        if ds in kernel_datasets():
            names["ngram_seeds"] = "tables/ngram_seeds.csv"
        tables[ds] = {name: f"results/{ds}/{path}" for name, path in names.items()}
    return tables


def kernel_datasets():
    """Datasets built from a kernel tarball: their file draw depends on a shuffle seed."""
    return [ds for ds in DATASETS if config["datasets"][ds]["kind"] == "kernel_tarball"]


def shuffle_seeds(ds):
    """The dataset's shuffle seed and the next ones, analysis.shuffle_seeds in all."""
    first = config["datasets"][ds]["shuffle_seed"]
    return [first + i for i in range(config["analysis"]["shuffle_seeds"])]


def get_seed_spec(wildcards):
    """A kernel dataset's config with the shuffle seed of the wildcard."""
    return {**config["datasets"][wildcards.ds], "shuffle_seed": int(wildcards.seed)}


def get_seed_draws(wildcards):
    """Per seed, the reference n-gram's scores and the corpus file list; the configured
    seed's are the main run's."""
    ds, n = wildcards.ds, config["analysis"]["reference_ngram"]
    main = config["datasets"][ds]["shuffle_seed"]
    draws = {}
    for seed in shuffle_seeds(ds):
        base = f"results/{ds}" if seed == main else f"results/{ds}/seeds/{seed}"
        draws[f"scores_{seed}"] = f"{base}/eval/ngram-{n}.parquet"
        tables = "tables" if seed == main else "data"
        draws[f"files_{seed}"] = f"{base}/{tables}/corpus_files.csv"
    return draws


def get_scorecard_inputs(wildcards):
    """The scorecard's table inputs (its params name them: ``scorecard_tables``)."""
    return [path for tables in scorecard_tables().values() for path in tables.values()]
