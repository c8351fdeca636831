from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from visrnn.common.configuration import schema_error_message
from visrnn.plan import ConfigError, check_config

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", ["config.yaml", ".test/config.yaml"])
def test_the_presets_pass(path: str) -> None:
    check_config(yaml.safe_load((REPO / path).read_text()))


def test_split_must_sum_to_one() -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"]["lk"]["split"] = [0.9, 0.05, 0.1]
    with pytest.raises(ConfigError, match=r"datasets.lk.split"):
        check_config(config)


def test_dynamics_model_must_be_in_the_grid() -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["analysis"]["dynamics"]["model"] = "lstm-3L-99k"
    with pytest.raises(ConfigError, match=r"analysis.dynamics.model"):
        check_config(config)


def test_dynamics_snapshots_must_lie_within_its_epochs() -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["analysis"]["dynamics"]["epoch_fractions"] = [0.5, 3.5]
    with pytest.raises(ConfigError, match=r"epoch_fractions: \[3.5\] lie beyond the 3 epochs"):
        check_config(config)


def test_reference_ngram_must_be_built() -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["analysis"]["reference_ngram"] = 11
    with pytest.raises(ConfigError, match=r"analysis.reference_ngram"):
        check_config(config)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(grdi=1), ["config error at the top level: unknown key(s) ['grdi']"]),
        (
            lambda c: c["training"].update(bach_size=3),
            ["config error at training: unknown key(s) ['bach_size']", "'batch_size'"],
        ),
        (lambda c: c["grid"].update(types=["cnn"]), ["grid.types.0: 'cnn' is not one of"]),
        (
            lambda c: c["baselines"]["ngram"].update(memory="2GB"),
            ["baselines.ngram.memory: '2GB' does not match", "K, M or G"],
        ),
        (lambda c: c["grid"].pop("dropouts"), ["at grid: 'dropouts' is a required property"]),
    ],
)
def test_a_schema_error_is_a_few_lines_naming_the_key(change, expected) -> None:
    config = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    change(config)
    message = schema_error_message(_schema_error_via(config))
    assert len(message.splitlines()) <= 4
    for part in expected:
        assert part in message


def _schema_error_via(config: dict) -> BaseException:
    from snakemake.utils import validate

    try:
        validate(config, str(REPO / "workflow/schemas/config.schema.yaml"), set_default=True)
    except Exception as error:  # Snakemake's WorkflowError, carrying jsonschema's error
        return error
    raise AssertionError("the config passed the schema")


@pytest.mark.parametrize("section", ["baselines", "training", "evaluation", "nnn", "ngram"])
def test_an_omitted_section_takes_the_schema_defaults(section: str) -> None:
    from snakemake.utils import validate

    config = yaml.safe_load((REPO / ".test" / "config.yaml").read_text())
    if section in ("nnn", "ngram"):
        del config["baselines"][section]
    else:
        del config[section]
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"), set_default=True)
    check_config(config)
    assert config["baselines"]["nnn"]["hidden_sizes"]
    assert config["baselines"]["ngram"]["n"] and config["training"]["epochs"]
    assert config["evaluation"]["bootstrap_samples"] == 100
