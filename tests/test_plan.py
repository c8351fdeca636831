"""The plan of the DAG (``visrnn.plan``) on its own, without Snakemake: runs and ids, result
paths, the final outputs, the scorecard's tables, the one model-id grammar that the rules
and the schema share, and defaults that fit the rest of the config."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from visrnn import plan
from visrnn.models.grid import BUDGET_PATTERN, ModelSpec

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
SMALL = {
    "datasets": {
        "wp": {"kind": "text", "source": {"path": "wp.txt"}, "split": [0.8, 0.1, 0.1]},
        "lk": {
            "kind": "kernel_tarball",
            "source": {"path": "lk.tar"},
            "max_bytes": 1000,
            "code": True,
            "split": [0.8, 0.1, 0.1],
        },
    },
    "grid": {
        "types": ["lstm", "gru"],
        "layers": [1, 2],
        "budgets": {"5k": 10, "10k": 20},
        "dropouts": [0.0, 0.5],
    },
    "training": {"epochs": 4},
    "baselines": {"ngram": {"n": [1, 2, 3]}, "nnn": {"n": [2], "hidden_sizes": [8, 16]}},
}


def settled(config: dict) -> dict:
    config = copy.deepcopy(config)
    plan.settle_config(config)
    return config


def test_grid_runs_and_ids() -> None:
    config = settled(SMALL)
    assert plan.model_ids(config, "wp") == [
        "lstm-1L-5k",
        "lstm-2L-5k",
        "gru-1L-5k",
        "gru-2L-5k",
        "lstm-1L-10k",
        "lstm-2L-10k",
        "gru-1L-10k",
        "gru-2L-10k",
    ]
    assert plan.model_ids(config, "wp", ["gru"])[:2] == ["gru-1L-5k", "gru-2L-5k"]
    runs = plan.training_runs(config, "wp")
    assert len(runs) == 8 * 2 + 2
    first, last = runs[0], runs[-1]
    assert (first.model, first.variant, first.group, first.epochs) == (
        "lstm-1L-5k",
        "dropout-0",
        "5k",
        4,
    )
    assert runs[1].variant == "dropout-0.5"
    assert (last.model, last.variant, last.group, last.epochs) == ("nnn-2", "hidden-16", "nnn", 4)
    assert first.checkpoint("wp") == "results/wp/runs/lstm-1L-5k/dropout-0/best.pt"
    assert last.log("lk", "/r") == "/r/lk/logs/train/nnn-2/hidden-16.log"


def test_epochs_come_from_the_config() -> None:
    """No number of epochs of the plan's own: the schema's default, or what is written."""
    config = copy.deepcopy(SMALL)
    del config["training"]
    config["baselines"]["nnn"]["epochs"] = 7
    config = settled(config)
    epochs = {run.group: run.epochs for run in plan.training_runs(config, "wp")}
    assert epochs == {"5k": SCHEMA_TRAINING_EPOCHS, "10k": SCHEMA_TRAINING_EPOCHS, "nnn": 7}


def test_n_nn_patience_is_its_own_or_the_training_s() -> None:
    """The n-NN stops on its own patience if set; the grid models keep training.patience."""
    config = copy.deepcopy(SMALL)
    config.setdefault("training", {})["patience"] = 9
    assert plan.nnn_training(settled(copy.deepcopy(config)))["patience"] == 9
    config["baselines"]["nnn"]["patience"] = 3
    config = settled(config)
    assert plan.nnn_training(config)["patience"] == 3
    assert config["training"]["patience"] == 9


SCHEMA_TRAINING_EPOCHS = SCHEMA["properties"]["training"]["properties"]["epochs"]["default"]


def test_result_paths_follow_the_output_contract() -> None:
    assert plan.checkpoint("wp", "lstm-2L-130k") == "results/wp/models/lstm-2L-130k/best.pt"
    assert plan.eval_scores("wp", plan.ngram_id(5)) == "results/wp/eval/ngram-5.parquet"
    assert plan.eval_scores("wp", plan.nnn_id(3)) == "results/wp/eval/nnn-3.parquet"
    assert plan.table("lk", "test_losses") == "results/lk/tables/test_losses.csv"
    assert plan.activations("lk", "gru-1L-5k") == "results/lk/activations/gru-1L-5k.parquet"
    assert plan.split_files("wp")["val"] == "results/wp/data/val.npy"
    assert plan.explorer_model("wp", "best-lstm", "/r") == "/r/wp/explorer/models/best-lstm"
    assert plan.scorecard(plan.SCORECARD_MD) == "results/scorecard.md"
    # The dynamics run's outputs, as rule dynamics_snapshots spells them.
    rules = (REPO / "workflow" / "rules" / "analysis.smk").read_text()
    assert f'snapshots=directory("{plan.dynamics_snapshots("{ds}")}")' in rules
    assert f'log="{plan.dynamics_log("{ds}")}"' in rules
    assert plan.train_log("wp", "lstm-1L-5k") == "results/wp/models/lstm-1L-5k/train_log.csv"
    config = settled(SMALL)
    assert plan.gated_saturation(config, "wp") == [
        f"results/wp/saturation/{model}.csv" for model in plan.model_ids(config, "wp")
    ]
    assert plan.lstm_activations(config, "wp") == [
        f"results/wp/activations/{model}.parquet"
        for model in plan.model_ids(config, "wp", ["lstm"])
    ]


def test_seed_draws_reuse_the_main_run_for_the_configured_seed() -> None:
    config = settled(SMALL)
    config["analysis"]["shuffle_seeds"] = 2
    n = config["analysis"]["reference_ngram"]
    assert plan.seed_draws(config, "lk") == {
        "scores_2015": f"results/lk/eval/ngram-{n}.parquet",
        "files_2015": "results/lk/tables/corpus_files.csv",
        "scores_2016": f"results/lk/seeds/2016/eval/ngram-{n}.parquet",
        "files_2016": "results/lk/seeds/2016/data/corpus_files.csv",
    }


def test_final_outputs_of_the_demo() -> None:
    config = settled(yaml.safe_load((REPO / ".test" / "config.yaml").read_text()))
    outputs = plan.final_outputs(config)
    assert outputs[-2:] == ["results/scorecard.csv", "results/scorecard.md"]
    assert len(outputs) == len(set(outputs))
    for ds in ("wp", "lk"):
        assert f"results/{ds}/tables/training_dynamics.csv" in outputs  # dynamics.model set
        assert f"results/{ds}/tables/unit_histories.csv" in outputs  # beside it
        assert f"results/{ds}/explorer/models/best-lstm" in outputs  # full_test: lstm, gru
        assert f"results/{ds}/explorer/models/best-rnn" not in outputs
        assert len([o for o in outputs if o.startswith(f"results/{ds}/activations/")]) == 6
    only = {
        "results/lk/tables/closing_brace.csv": "code",
        "results/lk/tables/ngram_seeds.csv": "kernel",
        "results/wp/tables/oracles.csv": "oracles",
    }
    for path in only:
        other = path.replace("/lk/", "/wp/") if "/lk/" in path else path.replace("/wp/", "/lk/")
        assert path in outputs and other not in outputs
    for ds in ("wp", "lk"):  # the best LSTM is dumped whole: its cells are silenced, clamped
        assert {f"results/{ds}/tables/ablation.csv", f"results/{ds}/figures/ablation.png"} <= set(
            outputs
        )
        assert f"results/{ds}/figures/clamped_samples.html" in outputs
    for ds in ("wp", "lk"):  # the atlas of every trained model
        assert {f"results/{ds}/tables/atlas.csv", f"results/{ds}/figures/atlas.png"} <= set(outputs)
    assert len(outputs) == 2 * 27 + 3 + 2


def test_the_atlas_reads_every_run_of_every_grid_model() -> None:
    config = settled(yaml.safe_load((REPO / ".test" / "config.yaml").read_text()))
    inputs = plan.atlas_inputs(config, "lk")
    # 3 types x 2 depths x 1 budget x 2 dropouts, in grid order, each dropout of a model together.
    assert len(inputs["dumps"]) == 12 == len(plan.all_grid_runs(config, "lk"))
    assert inputs["dumps"][:2] == [
        "results/lk/activations/runs/rnn-1L-10k/dropout-0.parquet",
        "results/lk/activations/runs/rnn-1L-10k/dropout-0.25.parquet",
    ]
    assert inputs["selections"] == plan.model_selections(config, "lk")
    assert plan.training_runs(config, "lk")[:12] == plan.all_grid_runs(config, "lk")


def test_scorecard_tables_follow_the_conditions() -> None:
    config = settled(yaml.safe_load((REPO / ".test" / "config.yaml").read_text()))
    tables = plan.scorecard_tables(config)
    common = {
        "corpus",
        "splits",
        "corpus_files",
        "model_sizes",
        "test_losses",
        "baselines",
        "agreement",
        "gate_saturation",
        "training_dynamics",
    }
    assert set(tables) == {"wp", "lk"}
    assert set(tables["wp"]) == common | {"oracles", "oracles_comparison"}
    assert set(tables["lk"]) == common | {"closing_brace", "ngram_seeds"}
    assert tables["wp"]["corpus"] == "results/wp/data/corpus.json"
    assert tables["lk"]["ngram_seeds"] == "results/lk/tables/ngram_seeds.csv"
    # No dynamics model, no oracles: neither table is read.
    del config["analysis"]["dynamics"]
    config["analysis"]["oracles"]["datasets"] = []
    tables = plan.scorecard_tables(config)
    assert "training_dynamics" not in tables["lk"] and "oracles" not in tables["wp"]


# --- one grammar -----------------------------------------------------------------------------


def test_the_schema_spells_model_ids_with_the_plans_grammar() -> None:
    defs, analysis = SCHEMA["$defs"], SCHEMA["properties"]["analysis"]["properties"]
    lstm = f"^{plan.LSTM_MODEL}$"
    assert analysis["dynamics"]["properties"]["model"]["pattern"] == lstm
    assert defs["oracle_model"]["pattern"] == f"^(best|best-smallest|{plan.LSTM_MODEL})$"
    dataset = SCHEMA["properties"]["datasets"]["additionalProperties"]["properties"]
    assert dataset["models"]["items"]["pattern"] == f"^{plan.GRID_MODEL}$"
    budgets = SCHEMA["properties"]["grid"]["properties"]["budgets"]
    assert budgets["propertyNames"]["pattern"] == f"^{BUDGET_PATTERN}$"
    types = SCHEMA["properties"]["grid"]["properties"]["types"]["items"]["enum"]
    assert "|".join(types) == plan.MODEL_TYPE


@pytest.mark.parametrize(
    ("model_id", "grid", "gated", "lstm"),
    [
        ("lstm-2L-130k", True, True, True),
        ("gru-10L-x.5", True, True, False),
        ("rnn-1L-50k", True, False, False),
        ("rnn-0L-50k", False, False, False),  # no 0-layer model
        ("lstm-2L-130K", False, False, False),  # budget names are lower case
        ("cnn-2L-130k", False, False, False),
        ("lstm-2L-a/b", False, False, False),
    ],
)
def test_one_grammar_for_parsing_rules_and_schema(model_id, grid, gated, lstm) -> None:
    assert bool(re.fullmatch(plan.GRID_MODEL, model_id)) == grid
    assert bool(re.fullmatch(plan.GATED_MODEL, model_id)) == gated
    assert bool(re.fullmatch(plan.LSTM_MODEL, model_id)) == lstm
    schema = SCHEMA["properties"]["analysis"]["properties"]["dynamics"]["properties"]["model"]
    assert bool(re.search(schema["pattern"], model_id)) == lstm
    if grid:
        assert ModelSpec.parse(model_id).model_id == model_id
    else:
        with pytest.raises(ValueError, match="is not a model id"):
            ModelSpec.parse(model_id)
    trained = re.fullmatch(plan.TRAINED_MODEL, model_id)
    assert bool(trained) == grid
    assert re.fullmatch(plan.TRAINED_MODEL, "nnn-3")
    assert re.fullmatch(plan.BEST_MODEL, "best-gru") and not re.fullmatch(plan.BEST_MODEL, "best")


def test_the_rules_take_the_grammar_from_the_plan() -> None:
    """No rule file spells a model id of its own."""
    rules = [*(REPO / "workflow" / "rules").glob("*.smk"), REPO / "Snakefile"]
    for path in rules:
        text = path.read_text()
        assert "rnn|lstm|gru" not in text and "[0-9]+L" not in text, path


# --- defaults that fit the rest of the config ------------------------------------------------


def lstm_only(**changes) -> dict:
    """A config a new user writes: an LSTM-only grid, most sections left to the defaults."""
    config = {
        "datasets": {
            "wp": {"kind": "text", "source": {"path": "wp.txt"}, "split": [0.8, 0.1, 0.1]}
        },
        "grid": {"types": ["lstm"], "layers": [1], "budgets": {"5k": 10}, "dropouts": [0.0]},
    }
    for key, value in changes.items():
        section, name = key.split("__")
        config.setdefault(section, {})[name] = value
    return config


def test_full_test_defaults_to_the_grids_types() -> None:
    config = settled(lstm_only())
    assert config["activations"]["full_test"] == ["lstm"]
    assert plan.final_outputs(config).count("results/wp/explorer/models/best-lstm") == 1
    with pytest.raises(plan.ConfigError, match=r"activations.full_test: \['gru'\] not among"):
        settled(lstm_only(activations__full_test=["lstm", "gru"]))


def test_reference_ngram_defaults_to_a_built_n() -> None:
    config = settled(lstm_only(baselines__ngram={"n": [1, 3, 5]}))
    assert config["analysis"]["reference_ngram"] == 5
    config = settled(lstm_only())
    assert config["analysis"]["reference_ngram"] == 20  # the paper's, when it is built
    # A written reference is built by the default n list ...
    config = settled(lstm_only(analysis__reference_ngram=11))
    assert 11 in config["baselines"]["ngram"]["n"] and 20 in config["baselines"]["ngram"]["n"]
    # ... and named when the written list lacks it.
    with pytest.raises(plan.ConfigError, match=r"analysis.reference_ngram: 11 is not among"):
        settled(lstm_only(analysis__reference_ngram=11, baselines__ngram={"n": [1, 3, 5]}))


def test_oracle_ngrams_default_to_the_built_ones() -> None:
    oracles = {"datasets": ["wp"]}
    config = settled(lstm_only(analysis__oracles=oracles, baselines__ngram={"n": [2, 4, 20]}))
    assert config["analysis"]["oracles"]["ngram"] == [2, 4]
    config = settled(lstm_only(analysis__oracles=oracles, baselines__ngram={"n": [12]}))
    assert config["analysis"]["oracles"]["ngram"] == [12]
    assert config["analysis"]["oracles"]["models"] == {"large": "best", "small": "best-smallest"}
    config = settled(lstm_only(analysis__oracles={"datasets": ["wp"], "ngram": [11]}))
    assert 11 in config["baselines"]["ngram"]["n"]
    with pytest.raises(plan.ConfigError, match=r"analysis.oracles.ngram: \[11\] not among"):
        settled(
            lstm_only(
                analysis__oracles={"datasets": ["wp"], "ngram": [11]},
                baselines__ngram={"n": [1, 2]},
            )
        )
    with pytest.raises(plan.ConfigError, match=r"analysis\.oracles\.models\.small: lstm-2L-5k"):
        settled(
            lstm_only(analysis__oracles={"datasets": ["wp"], "models": {"small": "lstm-2L-5k"}})
        )


def test_dynamics_epochs_and_snapshots_fit_each_other() -> None:
    config = settled(lstm_only(analysis__dynamics={"model": "lstm-1L-5k", "epochs": 1}))
    fractions = config["analysis"]["dynamics"]["epoch_fractions"]
    assert fractions and max(fractions) == 1.0
    config = settled(lstm_only(analysis__dynamics={"epoch_fractions": [0.5, 4.5]}))
    assert config["analysis"]["dynamics"]["epochs"] == 5
    dynamics = {"model": "lstm-1L-5k", "epochs": 1, "epoch_fractions": [0.5, 2.0]}
    with pytest.raises(plan.ConfigError, match=r"epoch_fractions: \[2.0\] lie beyond the 1"):
        settled(lstm_only(analysis__dynamics=dynamics))
    with pytest.raises(plan.ConfigError, match=r"analysis\.dynamics\.model: lstm-3L-5k"):
        settled(lstm_only(analysis__dynamics={"model": "lstm-3L-5k"}))


@pytest.mark.parametrize("path", ["config.yaml", ".test/config.yaml", "showcase/config.yaml"])
def test_the_presets_write_every_default_that_could_move(path: str) -> None:
    """The presets settle to what they wrote: fitting defaults changes none of their jobs."""
    written = yaml.safe_load((REPO / path).read_text())
    config = settled(written)
    assert config["activations"]["full_test"] == written["activations"]["full_test"]
    assert config["analysis"]["reference_ngram"] == written["analysis"]["reference_ngram"]
    assert config["baselines"]["ngram"]["n"] == written["baselines"]["ngram"]["n"]
    for key in ("epochs", "epoch_fractions"):
        assert config["analysis"]["dynamics"][key] == written["analysis"]["dynamics"][key]


def test_ablation_runs_where_the_best_lstm_is_dumped_whole() -> None:
    config = settled(SMALL)
    assert plan.ablation_datasets(config) == ["wp", "lk"]
    assert config["analysis"]["ablation"] == {"silence": ["zero", "mean"], "seed": 0}
    inputs = plan.ablation_inputs(config, "wp")
    assert inputs["ranking"] == "results/wp/tables/cell_ranking.csv"
    assert inputs["checkpoints"] == [
        plan.checkpoint("wp", model) for model in plan.model_ids(config, "wp", ["lstm"])
    ]
    assert inputs["reference"] == plan.eval_scores("wp", plan.ngram_id(3))
    assert "ngrams" not in inputs  # no oracle datasets: no Figure 6 categories
    oracles = copy.deepcopy(SMALL)
    oracles["analysis"] = {"oracles": {"datasets": ["wp"]}}
    config = settled(oracles)
    assert plan.ablation_inputs(config, "wp")["ngrams"] == [
        plan.eval_scores("wp", plan.ngram_id(n)) for n in config["analysis"]["oracles"]["ngram"]
    ]
    assert "ngrams" not in plan.ablation_inputs(config, "lk")
    gru_only = copy.deepcopy(SMALL)
    gru_only["activations"] = {"full_test": ["gru"]}
    config = settled(gru_only)
    assert plan.ablation_datasets(config) == []
    assert not [path for path in plan.final_outputs(config) if "ablation" in path]
    assert not [path for path in plan.final_outputs(config) if "clamped" in path]


def test_clamped_samples_run_with_the_ablation_and_read_its_checkpoints() -> None:
    config = settled(SMALL)
    assert config["analysis"]["clamped_samples"] == {
        "top": 1,
        "length": 1000,
        "temperature": 1.0,
        "seed": 123,
        "value": 2.0,
    }
    samples, ablation = (
        plan.clamped_samples_inputs(config, "lk"),
        plan.ablation_inputs(config, "lk"),
    )
    assert samples == {key: ablation[key] for key in samples}
    assert set(samples) == {"test_losses", "ranking", "checkpoints", "vocab"}
    outputs = plan.final_outputs(config)
    for ds in ("wp", "lk"):
        assert plan.table(ds, "clamped_samples") in outputs
        assert plan.figure(ds, "clamped_samples.html") in outputs
    too_many = copy.deepcopy(SMALL)
    too_many["analysis"] = {"cells_top_k": 2, "clamped_samples": {"top": 3}}
    with pytest.raises(plan.ConfigError, match=r"analysis.clamped_samples.top: 3 cells"):
        settled(too_many)


# --- a dataset that trains a part of the grid ------------------------------------------------


def _with_lk_part(**lk: object) -> dict:
    config = copy.deepcopy(SMALL)
    config["datasets"]["lk"].update(lk)
    return config


def test_a_dataset_trains_the_models_and_n_nns_it_names() -> None:
    """``datasets.<ds>.models`` and ``.nnn`` narrow that dataset's jobs and outputs only; the
    corpus rule's parameter does not see them (changing them does not redraw the corpus)."""
    config = settled(
        _with_lk_part(models=["gru-2L-10k", "lstm-1L-5k"], nnn={"n": [2, 3], "hidden_sizes": [8]})
    )
    assert plan.model_ids(config, "lk") == ["lstm-1L-5k", "gru-2L-10k"]  # grid order
    assert len(plan.model_ids(config, "wp")) == 8
    runs = plan.training_runs(config, "lk")
    assert [(r.model, r.variant) for r in runs] == [
        ("lstm-1L-5k", "dropout-0"),
        ("lstm-1L-5k", "dropout-0.5"),
        ("gru-2L-10k", "dropout-0"),
        ("gru-2L-10k", "dropout-0.5"),
        ("nnn-2", "hidden-8"),
        ("nnn-3", "hidden-8"),
    ]
    assert len(plan.training_runs(config, "wp")) == 8 * 2 + 2
    assert plan.baseline_evals(config, "lk")[-2:] == [
        plan.eval_scores("lk", "nnn-2"),
        plan.eval_scores("lk", "nnn-3"),
    ]
    outputs = plan.final_outputs(config)
    assert plan.activations("lk", "gru-2L-10k") in outputs
    assert plan.activations("lk", "lstm-2L-5k") not in outputs
    assert plan.activations("wp", "lstm-2L-5k") in outputs
    assert plan.best_of_type_inputs(config, "lk", "gru")["checkpoints"] == [
        plan.checkpoint("lk", "gru-2L-10k")
    ]
    assert plan.corpus_spec(config, "lk") == SMALL["datasets"]["lk"] | {
        "newlines": "keep",
        "shuffle_seed": 2015,
    }


def test_a_dataset_without_a_type_dumps_no_best_model_of_it() -> None:
    config = settled(_with_lk_part(models=["gru-1L-5k"]))
    assert plan.full_test_types(config, "lk") == ["gru"]
    assert plan.full_test_types(config, "wp") == ["lstm", "gru"]
    assert plan.ablation_datasets(config) == ["wp"]  # no LSTM on lk: nothing to silence


@pytest.mark.parametrize(
    ("lk", "message"),
    [
        ({"models": ["rnn-1L-5k"]}, r"datasets\.lk\.models: \['rnn-1L-5k'\] not in the model grid"),
        ({"models": ["lstm-3L-5k"]}, r"datasets\.lk\.models: \['lstm-3L-5k'\] not in the model"),
        (
            {"models": ["lstm-1L-5k"]},
            r"datasets\.lk\.models: analysis\.dynamics\.model is lstm-2L-5k, which lk does not",
        ),
    ],
)
def test_a_dataset_s_models_must_be_grid_models_the_analyses_have(lk, message) -> None:
    config = _with_lk_part(**lk)
    config["analysis"] = {"dynamics": {"model": "lstm-2L-5k"}}
    with pytest.raises(plan.ConfigError, match=message):
        settled(config)


def test_the_schema_refuses_an_unknown_key_of_a_dataset_s_n_nns() -> None:
    from snakemake.exceptions import WorkflowError

    with pytest.raises(WorkflowError):
        settled(_with_lk_part(nnn={"n": [2], "patience": 3}))
