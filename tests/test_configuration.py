from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from visrnn.configuration import ConfigError, check_config

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
