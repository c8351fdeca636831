"""The plan of the workflow's DAG: what a config asks for, and where each result lies.

The single source of truth for the runs, model ids and result paths (SPEC.md, output
contract). ``workflow/rules/common.smk`` wraps these functions as input functions, and
``visrnn status``, ``visrnn summary``, the explorer and the scorecard import them, so that
no second copy of a path or an id drifts from the rules.

Every function takes the config as the workflow holds it: through ``settle_config`` (the
schema's defaults filled in, the defaults that depend on other keys fitted to them, the
relations between keys checked). Paths are relative to the working directory, under
``results/`` unless a ``root`` is given.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visrnn.common.configuration import ConfigError
from visrnn.common.configuration import check_config as check_plain_config
from visrnn.models.grid import (
    GATED_TYPES,
    MODEL_TYPES,
    ModelSpec,
    model_grid,
    model_id_pattern,
)

#: The schema the workflow validates its config with, in a checkout.
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
#: Where results land, relative to the working directory.
RESULTS = "results"

# --- model ids: one grammar -------------------------------------------------------------------

#: A grid model's id, as a regex (unanchored): ``lstm-2L-130k``. Rules constrain their
#: ``{model}`` wildcard with it; the schema's model-id patterns are spelled from it (a test
#: holds them equal).
GRID_MODEL = model_id_pattern(MODEL_TYPES)
#: A gated grid model (LSTM or GRU): the ones with gates to saturate.
GATED_MODEL = model_id_pattern(GATED_TYPES)
#: A grid LSTM: what the error oracles and the training dynamics take.
LSTM_MODEL = model_id_pattern(("lstm",))
#: An n-NN baseline (``nnn-3``) and the best grid model of a type (``best-lstm``).
NNN_MODEL = r"nnn-[0-9]+"
BEST_MODEL = rf"best-(?:{'|'.join(MODEL_TYPES)})"
#: Any model with a checkpoint and eval scores: a grid model or an n-NN.
TRAINED_MODEL = rf"{GRID_MODEL}|{NNN_MODEL}"
#: Model types, as a wildcard constraint.
MODEL_TYPE = "|".join(MODEL_TYPES)


def ngram_id(n: int) -> str:
    return f"ngram-{n}"


def nnn_id(n: int) -> str:
    return f"nnn-{n}"


def best_id(model_type: str) -> str:
    return f"best-{model_type}"


def dropout_tag(dropout: float) -> str:
    """Directory-name form of a dropout value: 0.0 -> 0, 0.25 -> 0.25."""
    return f"{float(dropout):g}"


# --- the config: defaults that fit, relations checked ----------------------------------------


def settle_config(config: MutableMapping[str, Any], schema: Path = SCHEMA) -> None:
    """Make ``config`` what every function here expects, in place: validated by the schema
    with its defaults filled in, each default that depends on another key fitted to it
    (``fit_defaults``), then the relations between keys checked (``check_config``).

    Raises Snakemake's ``WorkflowError`` (schema; ``schema_error_message`` shortens it) or
    ``ConfigError``, naming a key the user wrote: a default never contradicts another key.
    """
    from snakemake.utils import validate  # the workflow's own validation

    written = copy.deepcopy(dict(config))
    if schema.is_file():
        validate(config, schema=str(schema), set_default=True)
    fit_defaults(config, written)
    check_config(config)


def fit_defaults(config: MutableMapping[str, Any], written: Mapping[str, Any]) -> None:
    """Replace each schema default that would contradict another key with one that fits.

    ``written``: the config as the user wrote it (before the schema's defaults), to tell a
    default from a choice. Keys keep their place (the rules' parameters are unchanged).
    """
    types = config["grid"]["types"]
    activations = config.get("activations", {})
    if "full_test" in activations and not _written(written, "activations", "full_test"):
        activations["full_test"] = [t for t in activations["full_test"] if t in types]

    ngram = config.get("baselines", {}).get("ngram", {})
    analysis = config.get("analysis", {})
    oracles = analysis.get("oracles", {})
    if "n" in ngram and not _written(written, "baselines", "ngram", "n"):
        # The paper's list, plus what the analyses the user set read.
        needed = set(ngram["n"])
        if _written(written, "analysis", "reference_ngram"):
            needed.add(analysis["reference_ngram"])
        if oracles.get("datasets") and _written(written, "analysis", "oracles", "ngram"):
            needed.update(oracles["ngram"])
        ngram["n"] = sorted(needed)
    built = ngram.get("n", [])
    reference = analysis.get("reference_ngram")
    fits = reference is None or not built or reference in built
    if not fits and not _written(written, "analysis", "reference_ngram"):
        analysis["reference_ngram"] = max(built)  # the paper's 20-gram: the largest n
    if "ngram" in oracles and not _written(written, "analysis", "oracles", "ngram") and built:
        # The schema's (the paper's 1..9) that are built, else every built one.
        oracles["ngram"] = [n for n in oracles["ngram"] if n in built] or list(built)

    dynamics = analysis.get("dynamics")
    if dynamics:
        epochs_written = _written(written, "analysis", "dynamics", "epochs")
        fractions_written = _written(written, "analysis", "dynamics", "epoch_fractions")
        if "epoch_fractions" in dynamics and fractions_written and not epochs_written:
            last = math.ceil(max(dynamics["epoch_fractions"]))
            dynamics["epochs"] = max(dynamics.get("epochs", last), last)
        if "epochs" in dynamics and epochs_written and not fractions_written:
            dynamics["epoch_fractions"] = [
                f for f in dynamics.get("epoch_fractions", []) if f <= dynamics["epochs"]
            ]


def _written(written: Mapping[str, Any], *keys: str) -> bool:
    node: Any = written
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def check_config(config: Mapping[str, Any]) -> None:
    """Every check of how config values relate (``visrnn.common.configuration``), and those
    that need the model grid: a model the analyses name must be one of the grid's, and one
    that every dataset it is analysed on trains."""
    check_plain_config(config)
    settings = config["grid"]
    dynamics = config.get("analysis", {}).get("dynamics")
    if dynamics and "model" in dynamics:
        _check_in_grid("analysis.dynamics.model", dynamics["model"], settings)
        if "lstm" not in settings["types"]:
            raise ConfigError("analysis.dynamics.model: the grid has no LSTM (grid.types)")
    oracles = config.get("analysis", {}).get("oracles", {})
    # The oracle models named by id (not chosen by test loss), where the oracles run.
    named_oracles = {
        f"analysis.oracles.models.{role}": selector
        for role, selector in oracles.get("models", {}).items()
        if oracles.get("datasets") and selector not in ("best", "best-smallest")
    }
    for key, model in named_oracles.items():
        _check_in_grid(key, model, settings)
    grid_ids = {s.model_id for s in grid(config)}
    for ds, spec in config["datasets"].items():
        outside = [m for m in spec.get("models", []) if m not in grid_ids]
        if outside:
            raise ConfigError(
                f"datasets.{ds}.models: {outside} not in the model grid "
                f"(types {settings['types']}, layers {settings['layers']}, "
                f"budgets {list(settings['budgets'])})"
            )
        trained = set(model_ids(config, ds))
        needed = {"analysis.dynamics.model": dynamics_model(config)}
        if ds in oracle_datasets(config):
            needed |= named_oracles
        for key, model in needed.items():
            if model is not None and model not in trained:
                raise ConfigError(
                    f"datasets.{ds}.models: {key} is {model}, which {ds} does not train "
                    "(add it to the dataset's models)"
                )
        if ds in oracle_datasets(config) and not model_ids(config, ds, ["lstm"]):
            raise ConfigError(f"datasets.{ds}.models: the error oracles need an LSTM")


def _check_in_grid(key: str, model_id: str, grid: Mapping[str, Any]) -> None:
    spec = ModelSpec.parse(model_id)
    if spec.num_layers not in grid["layers"] or spec.budget not in grid["budgets"]:
        raise ConfigError(
            f"{key}: {model_id} is not in the model grid "
            f"(layers {grid['layers']}, budgets {list(grid['budgets'])})"
        )


# --- datasets, runs and models ----------------------------------------------------------------


def datasets(config: Mapping[str, Any]) -> list[str]:
    return list(config["datasets"])


#: A dataset's keys about what is trained on it, not about its corpus.
TRAINING_KEYS = ("models", "nnn")


def corpus_spec(config: Mapping[str, Any], ds: str) -> dict[str, Any]:
    """Dataset ``ds``'s corpus settings (rule ``corpus``'s parameter): without the keys on
    what is trained on it, so that changing those does not redraw the corpus."""
    return {k: v for k, v in config["datasets"][ds].items() if k not in TRAINING_KEYS}


def kernel_datasets(config: Mapping[str, Any]) -> list[str]:
    """Datasets built from a kernel tarball: their file draw depends on a shuffle seed."""
    return [ds for ds in datasets(config) if config["datasets"][ds]["kind"] == "kernel_tarball"]


def oracle_datasets(config: Mapping[str, Any]) -> list[str]:
    """Datasets the error oracles (Figure 6) run on."""
    return list(config.get("analysis", {}).get("oracles", {}).get("datasets", []))


def grid(config: Mapping[str, Any]) -> list[ModelSpec]:
    """The grid's models, in a stable order (budget, type, layers)."""
    grid = config["grid"]
    return model_grid(grid["types"], grid["layers"], list(grid["budgets"]))


def dataset_models(config: Mapping[str, Any], ds: str) -> list[ModelSpec]:
    """The grid models dataset ``ds`` trains and analyses, in grid order: those its
    ``models`` names (a part of the grid, to fit a budget), else the whole grid."""
    chosen = config["datasets"][ds].get("models")
    return [s for s in grid(config) if chosen is None or s.model_id in chosen]


def model_ids(config: Mapping[str, Any], ds: str, types: Sequence[str] | None = None) -> list[str]:
    """Ids of dataset ``ds``'s grid models, of ``types`` only if given."""
    return [
        s.model_id for s in dataset_models(config, ds) if types is None or s.model_type in types
    ]


def ngram_ns(config: Mapping[str, Any]) -> list[int]:
    return list(config["baselines"]["ngram"]["n"])


def _nnn_setting(config: Mapping[str, Any], ds: str, key: str) -> list[int]:
    """Dataset ``ds``'s n-NN ``key`` (``n`` or ``hidden_sizes``): its own ``nnn``'s, else
    ``baselines.nnn``'s."""
    return list(config["datasets"][ds].get("nnn", {}).get(key, config["baselines"]["nnn"][key]))


def nnn_ns(config: Mapping[str, Any], ds: str) -> list[int]:
    """The orders of dataset ``ds``'s n-NNs."""
    return _nnn_setting(config, ds, "n")


def nnn_hidden_sizes(config: Mapping[str, Any], ds: str) -> list[int]:
    """The hidden sizes each n-NN of dataset ``ds`` is chosen among (on validation)."""
    return _nnn_setting(config, ds, "hidden_sizes")


def reference_ngram(config: Mapping[str, Any]) -> int:
    """The n of "the 20-gram" the per-character, brace and seed analyses compare with."""
    return int(config["analysis"]["reference_ngram"])


def full_test_types(config: Mapping[str, Any], ds: str) -> list[str]:
    """Types whose best model is dumped over the whole test split for the explorer: those of
    ``activations.full_test`` that dataset ``ds`` trains."""
    trained = {s.model_type for s in dataset_models(config, ds)}
    return [t for t in config["activations"]["full_test"] if t in trained]


def ablation_datasets(config: Mapping[str, Any]) -> list[str]:
    """Datasets whose best LSTM's ranked cells are silenced (tables/ablation.csv) and clamped
    while it writes (tables/clamped_samples.csv): all, when the best LSTM is dumped over the
    whole test split (activations.full_test)."""
    return [ds for ds in datasets(config) if "lstm" in full_test_types(config, ds)]


def dynamics_model(config: Mapping[str, Any]) -> str | None:
    """The grid LSTM whose first epochs are snapshotted (Figure 5), if any."""
    return config.get("analysis", {}).get("dynamics", {}).get("model")


def shuffle_seeds(config: Mapping[str, Any], ds: str) -> list[int]:
    """The dataset's shuffle seed and the next ones, analysis.shuffle_seeds in all."""
    first = config["datasets"][ds]["shuffle_seed"]
    return [first + i for i in range(config["analysis"]["shuffle_seeds"])]


def nnn_training(config: Mapping[str, Any]) -> dict[str, Any]:
    """The n-NN trains like the recurrent models, with its own epochs and patience if set."""
    nnn = config["baselines"]["nnn"]
    own = {key: nnn[key] for key in ("epochs", "patience") if nnn.get(key)}
    return {**config["training"], **own}


@dataclass(frozen=True)
class TrainingRun:
    """One training job: a grid model at one dropout, or an n-NN at one hidden size."""

    model: str
    variant: str  # its directory: dropout-0.25, hidden-128
    group: str  # runs of similar cost: the grid budget, or "nnn"
    epochs: int  # epochs the config asks for (an upper bound with early stopping)

    def directory(self, ds: str, root: str | Path = RESULTS) -> str:
        """Where it writes best.pt, train_log.csv and (while training) resume.pt."""
        return f"{root}/{ds}/runs/{self.model}/{self.variant}"

    def checkpoint(self, ds: str, root: str | Path = RESULTS) -> str:
        return f"{self.directory(ds, root)}/best.pt"

    def log(self, ds: str, root: str | Path = RESULTS) -> str:
        """Its rule's log."""
        return f"{root}/{ds}/logs/train/{self.model}/{self.variant}.log"


def grid_runs(config: Mapping[str, Any], model: str) -> list[TrainingRun]:
    """The runs among which grid model ``model`` is selected: one per dropout."""
    epochs = int(config["training"]["epochs"])
    budget = ModelSpec.parse(model).budget
    return [
        TrainingRun(model, f"dropout-{dropout_tag(d)}", budget, epochs)
        for d in config["grid"]["dropouts"]
    ]


def all_grid_runs(config: Mapping[str, Any], ds: str) -> list[TrainingRun]:
    """Every trained grid model of dataset ``ds``: each of its grid models at each dropout
    (what the atlas ranks), in grid order."""
    return [run for model in model_ids(config, ds) for run in grid_runs(config, model)]


def nnn_runs(config: Mapping[str, Any], ds: str, n: int | str) -> list[TrainingRun]:
    """The runs among which dataset ``ds``'s n-NN is selected: one per hidden size."""
    epochs = int(nnn_training(config)["epochs"])
    return [
        TrainingRun(nnn_id(int(n)), f"hidden-{hidden}", "nnn", epochs)
        for hidden in nnn_hidden_sizes(config, ds)
    ]


def training_runs(config: Mapping[str, Any], ds: str) -> list[TrainingRun]:
    """Every training job of dataset ``ds`` (train_model and train_nnn), grid first."""
    nnn = [run for n in nnn_ns(config, ds) for run in nnn_runs(config, ds, n)]
    return all_grid_runs(config, ds) + nnn


# --- result paths (SPEC.md, output contract) -------------------------------------------------


def data_file(ds: str, name: str, root: str | Path = RESULTS) -> str:
    """``results/{ds}/data/{name}``: corpus.bin, corpus.json, vocab.json, {split}.npy."""
    return f"{root}/{ds}/data/{name}"


def split_files(ds: str) -> dict[str, str]:
    return {split: data_file(ds, f"{split}.npy") for split in ("train", "val", "test")}


def checkpoint(ds: str, model: str) -> str:
    """A selected model's checkpoint (grid model or n-NN)."""
    return f"{RESULTS}/{ds}/models/{model}/best.pt"


def selection(ds: str, model: str) -> str:
    return f"{RESULTS}/{ds}/models/{model}/selection.json"


def eval_scores(ds: str, model: str) -> str:
    """Per-position test scores of a model (grid, ``nnn-{n}`` or ``ngram-{n}``)."""
    return f"{RESULTS}/{ds}/eval/{model}.parquet"


def activations(ds: str, model: str) -> str:
    return f"{RESULTS}/{ds}/activations/{model}.parquet"


def run_activations(ds: str, run: TrainingRun) -> str:
    """The dump of one training run of a grid model (the atlas reads every run's)."""
    return f"{RESULTS}/{ds}/activations/runs/{run.model}/{run.variant}.parquet"


def saturation(ds: str, model: str) -> str:
    return f"{RESULTS}/{ds}/saturation/{model}.csv"


def table(ds: str, name: str) -> str:
    """``results/{ds}/tables/{name}.csv``."""
    return f"{RESULTS}/{ds}/tables/{name}.csv"


def figure(ds: str, name: str) -> str:
    """``results/{ds}/figures/{name}`` (with its extension)."""
    return f"{RESULTS}/{ds}/figures/{name}"


def train_log(ds: str, model: str) -> str:
    """A selected model's per-epoch training log."""
    return f"{RESULTS}/{ds}/models/{model}/train_log.csv"


def dynamics_snapshots(ds: str, root: str | Path = RESULTS) -> str:
    """The folder of the dynamics model's training snapshots (``iter-*.pt``, Figure 5)."""
    return f"{root}/{ds}/dynamics/snapshots"


def dynamics_log(ds: str, root: str | Path = RESULTS) -> str:
    """The snapshot run's per-epoch training log."""
    return f"{root}/{ds}/dynamics/train_log.csv"


def seed_dir(ds: str, seed: int) -> str:
    """A kernel dataset redrawn with another shuffle seed (seeds.smk)."""
    return f"{RESULTS}/{ds}/seeds/{seed}"


def explorer_text(ds: str, root: str | Path = RESULTS) -> str:
    """The explorer's text store of a dataset."""
    return f"{root}/{ds}/explorer/text"


def explorer_models(ds: str, root: str | Path = RESULTS) -> str:
    """The folder of the explorer's model copies of a dataset."""
    return f"{root}/{ds}/explorer/models"


def explorer_model(ds: str, model: str, root: str | Path = RESULTS) -> str:
    """The explorer's unit-major copy of a model's dump."""
    return f"{explorer_models(ds, root)}/{model}"


#: The scorecard, relative to the results directory (csv and the page a reader opens).
SCORECARD_CSV = "scorecard.csv"
SCORECARD_MD = "scorecard.md"


def scorecard(name: str, root: str | Path = RESULTS) -> str:
    return f"{root}/{name}"


# --- what rules read --------------------------------------------------------------------------


def model_evals(config: Mapping[str, Any], ds: str) -> list[str]:
    """Every grid model's test scores."""
    return [eval_scores(ds, model) for model in model_ids(config, ds)]


def baseline_evals(config: Mapping[str, Any], ds: str) -> list[str]:
    """Every n-gram's, then every n-NN's test scores (Table 2)."""
    return [eval_scores(ds, ngram_id(n)) for n in ngram_ns(config)] + [
        eval_scores(ds, nnn_id(n)) for n in nnn_ns(config, ds)
    ]


def oracle_evals(config: Mapping[str, Any], ds: str) -> list[str]:
    """Scores the error oracles read: every LSTM (the two compared are chosen by test loss)
    and the n-gram baselines of the n-gram oracles."""
    ns = config["analysis"]["oracles"]["ngram"]
    return [eval_scores(ds, model) for model in model_ids(config, ds, ["lstm"])] + [
        eval_scores(ds, ngram_id(n)) for n in ns
    ]


def nnn_checkpoints(config: Mapping[str, Any], ds: str) -> list[str]:
    return [checkpoint(ds, nnn_id(n)) for n in nnn_ns(config, ds)]


def model_selections(config: Mapping[str, Any], ds: str) -> list[str]:
    return [selection(ds, model) for model in model_ids(config, ds)]


def gated_saturation(config: Mapping[str, Any], ds: str) -> list[str]:
    """Gate saturation counts of every gated grid model (Figure 3)."""
    return [saturation(ds, model) for model in model_ids(config, ds, GATED_TYPES)]


def lstm_activations(config: Mapping[str, Any], ds: str) -> list[str]:
    """The LSTMs' dumps, among which the interpretable cells are ranked (Figure 2)."""
    return [activations(ds, model) for model in model_ids(config, ds, ["lstm"])]


def atlas_inputs(config: Mapping[str, Any], ds: str) -> dict[str, Any]:
    """What the atlas of a dataset reads: every run's dump (in ``all_grid_runs`` order), every
    grid model's selection record (which run is "the" model), and the test text."""
    return {
        "dumps": [run_activations(ds, run) for run in all_grid_runs(config, ds)],
        "selections": model_selections(config, ds),
        "test": data_file(ds, "test.npy"),
        "vocab": data_file(ds, "vocab.json"),
    }


def best_of_type_inputs(config: Mapping[str, Any], ds: str, model_type: str) -> dict[str, Any]:
    """What the dump of ``best-<type>`` chooses among: every grid model of the type."""
    return {
        "checkpoints": [checkpoint(ds, model) for model in model_ids(config, ds, [model_type])],
        "test_losses": table(ds, "test_losses"),
    }


def explorer_model_inputs(config: Mapping[str, Any], ds: str, model: str) -> dict[str, Any]:
    """A dump and what the explorer needs beside it: the model's checkpoint (its decoder)
    and eval scores; for best-<type>, those of every model of the type (the script takes
    the one the dump names); on an oracle dataset, what the Figure 6 categories read."""
    best_of = model.removeprefix("best-")
    ids = model_ids(config, ds, [best_of]) if best_of != model else [model]
    inputs: dict[str, Any] = {
        "dump": activations(ds, model),
        "checkpoints": [checkpoint(ds, i) for i in ids],
        "scores": [eval_scores(ds, i) for i in ids],
    }
    if ds in oracle_datasets(config):
        inputs["train"] = data_file(ds, "train.npy")
        inputs["ngrams"] = [
            eval_scores(ds, ngram_id(n)) for n in config["analysis"]["oracles"]["ngram"]
        ]
    return inputs


def clamped_samples_inputs(config: Mapping[str, Any], ds: str) -> dict[str, Any]:
    """What the clamped samples of a dataset read: the LSTMs' checkpoints (the best one is
    chosen by test loss, as for its dump), the ranked cells and the vocabulary."""
    return {
        "test_losses": table(ds, "test_losses"),
        "ranking": table(ds, "cell_ranking"),
        "checkpoints": [checkpoint(ds, model) for model in model_ids(config, ds, ["lstm"])],
        "vocab": data_file(ds, "vocab.json"),
    }


def ablation_inputs(config: Mapping[str, Any], ds: str) -> dict[str, Any]:
    """What the ablation of a dataset reads: the clamped samples' inputs, the LSTMs' scores,
    the reference n-gram's scores and, on an oracle dataset, what the Figure 6 categories
    read."""
    inputs: dict[str, Any] = {
        **clamped_samples_inputs(config, ds),
        "scores": [eval_scores(ds, model) for model in model_ids(config, ds, ["lstm"])],
        "reference": eval_scores(ds, ngram_id(reference_ngram(config))),
        "test": data_file(ds, "test.npy"),
    }
    if ds in oracle_datasets(config):
        inputs["train"] = data_file(ds, "train.npy")
        inputs["ngrams"] = [
            eval_scores(ds, ngram_id(n)) for n in config["analysis"]["oracles"]["ngram"]
        ]
    return inputs


def unit_history_inputs(config: Mapping[str, Any], ds: str) -> dict[str, Any]:
    """What the unit histories read: the dynamics model's snapshots and their run's log, its
    converged checkpoint and log (the cells are ranked on it when its run retraced the
    snapshot run), the Figure 5 (right) table drawn beside them, the test text."""
    model = dynamics_model(config)
    if model is None:
        raise ConfigError("analysis.dynamics.model: the unit histories need a dynamics model")
    return {
        "snapshots": dynamics_snapshots(ds),
        "snapshots_log": dynamics_log(ds),
        "checkpoint": checkpoint(ds, model),
        "model_log": train_log(ds, model),
        "dynamics": table(ds, "training_dynamics"),
        "test": data_file(ds, "test.npy"),
        "vocab": data_file(ds, "vocab.json"),
    }


def seed_draws(config: Mapping[str, Any], ds: str) -> dict[str, str]:
    """Per shuffle seed, the reference n-gram's scores (``scores_{seed}``) and the corpus
    file list (``files_{seed}``); the configured seed's are the main run's."""
    n, main = reference_ngram(config), config["datasets"][ds]["shuffle_seed"]
    draws = {}
    for seed in shuffle_seeds(config, ds):
        base = f"{RESULTS}/{ds}" if seed == main else seed_dir(ds, seed)
        draws[f"scores_{seed}"] = f"{base}/eval/{ngram_id(n)}.parquet"
        tables = "tables" if seed == main else "data"
        draws[f"files_{seed}"] = f"{base}/{tables}/corpus_files.csv"
    return draws


# --- what the workflow ends with --------------------------------------------------------------


def scorecard_tables(config: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Dataset -> table name -> path of every table the scorecard reads that this config
    makes (a claim whose table is not here is "not run")."""
    tables: dict[str, dict[str, str]] = {}
    for ds in datasets(config):
        paths = {"corpus": data_file(ds, "corpus.json")}
        names = ["splits", "corpus_files", "model_sizes", "test_losses", "baselines"]
        names += ["agreement", "gate_saturation"]
        if config["datasets"][ds]["code"]:
            names.append("closing_brace")
        if dynamics_model(config):
            names.append("training_dynamics")
        if ds in oracle_datasets(config):
            names += ["oracles", "oracles_comparison"]
        if ds in kernel_datasets(config):
            names.append("ngram_seeds")
        tables[ds] = paths | {name: table(ds, name) for name in names}
    return tables


#: The sections of the config the scorecard's checks read (what the run differs from the
#: paper in): a param of its rule, so that only they rerun it.
SCORECARD_SECTIONS = ("datasets", "grid", "training", "baselines", "analysis")


def scorecard_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``config`` the scorecard reads."""
    return {key: config[key] for key in SCORECARD_SECTIONS}


def final_outputs(config: Mapping[str, Any]) -> list[str]:
    """Every table and figure of every dataset: what `snakemake` with no target builds."""
    outputs = []
    for ds in datasets(config):
        outputs += [table(ds, "model_sizes"), table(ds, "test_losses")]
        outputs.append(figure(ds, "test_losses.png"))
        outputs += [
            table(ds, name)
            for name in (
                "baselines",
                "best_models",
                "agreement",
                "error_overlap",
                "char_advantage",
                "gate_saturation",
                "cell_ranking",
                "atlas",
            )
        ]
        outputs.append(figure(ds, "atlas.png"))
        outputs += [activations(ds, model) for model in model_ids(config, ds)]
        outputs.append(explorer_text(ds))
        # The explorer's copies of the best model of each full_test type; any other grid
        # model's is one target away: results/{ds}/explorer/models/{model}
        outputs += [explorer_model(ds, best_id(t)) for t in full_test_types(config, ds)]
        if ds in ablation_datasets(config):
            outputs += [table(ds, "ablation"), figure(ds, "ablation.png")]
            outputs += [table(ds, "clamped_samples"), figure(ds, "clamped_samples.html")]
        if config["datasets"][ds]["code"]:
            outputs.append(table(ds, "closing_brace"))
        if dynamics_model(config):
            outputs += [table(ds, "training_dynamics"), table(ds, "unit_histories")]
        if ds in oracle_datasets(config):
            outputs.append(table(ds, "oracles"))
        if ds in kernel_datasets(config):
            outputs.append(table(ds, "ngram_seeds"))
    return [*outputs, scorecard(SCORECARD_CSV), scorecard(SCORECARD_MD)]
