# Shared by all the rule files. Config validation, input functions (thin wrappers around the
# plan of the DAG, visrnn.plan: runs, model ids, result paths), and the package source files
# each stage depends on.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

SRC = Path(workflow.basedir) / "src"
# Scripts import the package from this checkout, whatever else is installed. (The workflow
# sets this variable; it needs none from the user.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
)
sys.path.insert(0, str(SRC))

from visrnn.common.configuration import schema_error_message  # noqa: E402
from visrnn.common.devices import RUNS_PER_GPU_ENV, pack_gpu_pool  # noqa: E402
from visrnn.common.sources import script_sources  # noqa: E402
from visrnn import plan  # noqa: E402

try:
    # The schema's defaults filled in and fitted to the other keys, relations checked.
    plan.settle_config(
        config,
        schema=Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
    )
except WorkflowError as error:
    # One key and its allowed values, not the whole schema and config.
    raise WorkflowError(schema_error_message(error)) from None

# GPU packing (docs/running.md, GPU box): K jobs per device, so `--resources gpu=N`
# (N devices) becomes a pool of N * K jobs, and every GPU job learns K from the environment
# (set anew wherever the Snakefile is read: locally and inside each cluster job). Not a
# params: no reruns.
os.environ[RUNS_PER_GPU_ENV] = str(config["devices"]["runs_per_gpu"])
pack_gpu_pool(workflow.global_resources, config["devices"]["runs_per_gpu"])

DYNAMICS_MODEL = plan.dynamics_model(config)
REFERENCE_NGRAM = plan.ngram_id(plan.reference_ngram(config))


wildcard_constraints:
    ds="|".join(plan.datasets(config)),
    model=plan.TRAINED_MODEL,
    dropout=r"[0-9.]+",
    n=r"[0-9]+",
    hidden=r"[0-9]+",
    seed=r"[0-9]+",


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
    "ablation": "Ablation and clamped samples: what a cell is worth, what it writes",
    "atlas": "Atlas: cells across the grid",
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
# writes, GPU slots. They are no job's inputs, so editing them reruns nothing
# (docs/reruns.md: how to force a rerun).
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


def parse_memory_mb(size):
    """Megabytes of a KenLM memory size such as 2G or 500M."""
    factor = {"K": 1 / 1024, "M": 1, "G": 1024}[size[-1]]
    return int(float(size[:-1]) * factor)


# Input functions: the plan's (visrnn.plan), for the wildcards of a job.


def get_split_files(wildcards):
    return plan.split_files(wildcards.ds)


def get_grid_runs(wildcards):
    """Training runs among which a grid model is selected: one per dropout value."""
    return [
        run.checkpoint(wildcards.ds) for run in plan.grid_runs(config, wildcards.model)
    ]


def get_nnn_runs(wildcards):
    """Training runs among which an n-NN is selected: one per hidden size."""
    return [
        run.checkpoint(wildcards.ds)
        for run in plan.nnn_runs(config, wildcards.ds, wildcards.n)
    ]


def get_model_evals(wildcards):
    return plan.model_evals(config, wildcards.ds)


def get_all_evals(wildcards):
    """The grid models' scores, then the baselines'."""
    return plan.model_evals(config, wildcards.ds) + plan.baseline_evals(
        config, wildcards.ds
    )


def get_baseline_evals(wildcards):
    return plan.baseline_evals(config, wildcards.ds)


def get_oracle_evals(wildcards):
    return plan.oracle_evals(config, wildcards.ds)


def get_model_selections(wildcards):
    return plan.model_selections(config, wildcards.ds)


def get_nnn_checkpoints(wildcards):
    return plan.nnn_checkpoints(config, wildcards.ds)


def get_gated_saturation(wildcards):
    return plan.gated_saturation(config, wildcards.ds)


def get_lstm_activations(wildcards):
    return plan.lstm_activations(config, wildcards.ds)


def get_atlas_inputs(wildcards):
    return plan.atlas_inputs(config, wildcards.ds)


def get_atlas_runs(wildcards):
    """(model, run directory) of every dump the atlas reads, in the order of its inputs."""
    return [
        [run.model, run.variant] for run in plan.all_grid_runs(config, wildcards.ds)
    ]


def get_best_of_type_sources(wildcards):
    return plan.best_of_type_inputs(config, wildcards.ds, wildcards.type)


def get_explorer_model_sources(wildcards):
    return plan.explorer_model_inputs(config, wildcards.ds, wildcards.model)


def get_ablation_inputs(wildcards):
    return plan.ablation_inputs(config, wildcards.ds)


def get_unit_history_inputs(wildcards):
    return plan.unit_history_inputs(config, wildcards.ds)


def get_clamped_samples_inputs(wildcards):
    return plan.clamped_samples_inputs(config, wildcards.ds)


def get_explorer_oracles(wildcards):
    """The error-oracle settings for a dataset the oracles run on, else None."""
    if wildcards.ds in plan.oracle_datasets(config):
        return config["analysis"]["oracles"]
    return None


def get_dataset_code(wildcards):
    return config["datasets"][wildcards.ds]["code"]


def get_seed_spec(wildcards):
    """A kernel dataset's config with the shuffle seed of the wildcard."""
    return {
        **plan.corpus_spec(config, wildcards.ds),
        "shuffle_seed": int(wildcards.seed),
    }


def get_shuffle_seeds(wildcards):
    return plan.shuffle_seeds(config, wildcards.ds)


def get_seed_draws(wildcards):
    return plan.seed_draws(config, wildcards.ds)


def get_scorecard_inputs(wildcards):
    """Every table the scorecard reads (plan.scorecard_tables names them)."""
    return [
        path
        for tables in plan.scorecard_tables(config).values()
        for path in tables.values()
    ]
