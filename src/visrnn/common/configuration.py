"""Config checks that a JSON schema cannot express.

The schema (workflow/schemas/config.schema.yaml) checks types, ranges and names; this checks
how values relate to each other, before any job runs, with one message naming the key. The
checks that need the model grid are ``visrnn.plan``'s, which runs these too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class ConfigError(ValueError):
    """A config value that cannot work; the message names its key."""


def schema_error_message(error: BaseException) -> str:
    """A few lines on a config that fails the JSON schema: the key, what is wrong, what is
    allowed (not the whole schema and config that a bare ``ValidationError`` prints).

    ``error`` is jsonschema's ``ValidationError``, or an error that carries one (Snakemake's
    ``validate`` wraps it in a ``WorkflowError``).
    """
    invalid = _find_validation_error(error)
    if invalid is None:
        return str(error)
    key = ".".join(str(part) for part in invalid.absolute_path) or "the top level"
    schema = invalid.schema if isinstance(invalid.schema, Mapping) else {}
    allowed = sorted(schema.get("properties", {}))
    if invalid.validator == "additionalProperties" and isinstance(invalid.instance, Mapping):
        unknown = sorted(str(k) for k in invalid.instance if k not in schema.get("properties", {}))
        lines = [f"config error at {key}: unknown key(s) {unknown}", f"allowed keys: {allowed}"]
    else:
        lines = [f"config error at {key}: {invalid.message}"]
        if invalid.validator == "required":
            lines.append(f"allowed keys: {allowed}")
    if invalid.absolute_path and (description := schema.get("description")):
        lines.append(f"{key}: {' '.join(str(description).split())}")
    lines.append("(see workflow/schemas/config.schema.yaml)")
    return "\n".join(lines)


def _find_validation_error(error: BaseException | None) -> Any:
    """jsonschema's ValidationError in ``error``, its arguments, or its context chain."""
    seen = 0
    while error is not None and seen < 10:
        candidates = [error, *(a for a in getattr(error, "args", ()) if isinstance(a, Exception))]
        for candidate in candidates:
            if all(hasattr(candidate, name) for name in ("validator", "absolute_path", "schema")):
                return candidate
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def check_config(config: Mapping[str, Any]) -> None:
    for name, dataset in config["datasets"].items():
        split = dataset["split"]
        if not math.isclose(sum(split), 1.0, abs_tol=1e-6):
            raise ConfigError(
                f"datasets.{name}.split: the train/val/test fractions {split} sum to "
                f"{sum(split):g}, not 1"
            )
        if dataset["kind"] == "kernel_tarball" and "max_bytes" not in dataset:
            raise ConfigError(f"datasets.{name}.max_bytes: required for a kernel tarball")
    grid = config["grid"]
    _check_oracles(config)
    dynamics = config.get("analysis", {}).get("dynamics")
    if dynamics and "epoch_fractions" in dynamics and "epochs" in dynamics:
        epochs = dynamics["epochs"]
        late = [f for f in dynamics["epoch_fractions"] if f > epochs]
        if late:
            raise ConfigError(
                f"analysis.dynamics.epoch_fractions: {late} lie beyond the {epochs} epochs "
                "the snapshots run is trained for (analysis.dynamics.epochs)"
            )
    missing = set(config.get("activations", {}).get("full_test", [])) - set(grid["types"])
    if missing:
        raise ConfigError(
            f"activations.full_test: {sorted(missing)} not among grid.types {grid['types']}"
        )
    analysis = config.get("analysis", {})
    top, ranked = analysis.get("clamped_samples", {}).get("top"), analysis.get("cells_top_k")
    if top is not None and ranked is not None and top > ranked:
        raise ConfigError(
            f"analysis.clamped_samples.top: {top} cells per signal, but the ranking keeps "
            f"{ranked} (analysis.cells_top_k)"
        )
    baselines = config.get("baselines", {})
    reference = config.get("analysis", {}).get("reference_ngram")
    ngram_n = baselines.get("ngram", {}).get("n", [])
    if reference is not None and ngram_n and reference not in ngram_n:
        raise ConfigError(
            f"analysis.reference_ngram: {reference} is not among baselines.ngram.n {ngram_n}"
        )


def _check_oracles(config: Mapping[str, Any]) -> None:
    oracles = config.get("analysis", {}).get("oracles", {})
    if not oracles.get("datasets"):
        return
    unknown = [ds for ds in oracles["datasets"] if ds not in config["datasets"]]
    if unknown:
        raise ConfigError(
            f"analysis.oracles.datasets: {unknown} not among datasets {list(config['datasets'])}"
        )
    grid = config["grid"]
    if "lstm" not in grid["types"]:
        raise ConfigError("analysis.oracles: the oracles analyse LSTMs; add lstm to grid.types")
    ngram_n = config.get("baselines", {}).get("ngram", {}).get("n", [])
    missing = [n for n in oracles.get("ngram", []) if n not in ngram_n]
    if "ngram" in oracles.get("order", []) and missing:
        raise ConfigError(
            f"analysis.oracles.ngram: {missing} not among baselines.ngram.n {ngram_n}; "
            "the n-gram oracles read those baselines' scores"
        )
