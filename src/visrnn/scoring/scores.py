"""Per-position test scores: the common currency of every analysis.

Every model and every baseline writes one Parquet file with, per test position, the target
id, the probability the model gave it, and the model's most likely id. The file's metadata
records the model, the dataset, and fingerprints of the vocabulary and the test split, so
that analyses can refuse to compare files that do not describe the same positions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from visrnn.common.files import REBUILD, atomic_path
from visrnn.data.splits import array_sha256

SCHEMA = pa.schema(
    [
        pa.field("target", pa.uint16()),
        pa.field("p_target", pa.float32()),
        pa.field("argmax", pa.uint16()),
    ]
)
_META_KEYS = ("model", "dataset", "vocab_sha256", "test_sha256")


@dataclass(frozen=True)
class Scores:
    """A model's per-position view of the test split."""

    model: str
    dataset: str
    vocab_sha256: str
    test_sha256: str
    target: np.ndarray  # (N,) int, the true next symbol
    p_target: np.ndarray  # (N,) float32, probability the model gave it
    argmax: np.ndarray  # (N,) int, the model's most likely symbol

    def __post_init__(self) -> None:
        n = len(self.target)
        if len(self.p_target) != n or len(self.argmax) != n:
            raise ValueError(f"{self.model}: target, p_target and argmax differ in length")

    @property
    def nll(self) -> np.ndarray:
        """Per-position loss in nats, -ln p(target)."""
        return -np.log(np.maximum(self.p_target.astype(np.float64), np.finfo(np.float64).tiny))

    @property
    def loss(self) -> float:
        """Test loss: mean cross-entropy in nats per character."""
        return float(self.nll.mean())


def scores_for_test_split(
    model: str,
    dataset: str,
    vocab_sha256: str,
    test_ids: np.ndarray,
    p_target: np.ndarray,
    argmax: np.ndarray,
) -> Scores:
    """Scores of the test split ``test_ids``: position t predicts character t + 1."""
    return Scores(
        model=model,
        dataset=dataset,
        vocab_sha256=vocab_sha256,
        test_sha256=array_sha256(test_ids),
        target=np.asarray(test_ids)[1:],
        p_target=p_target,
        argmax=argmax,
    )


def write_scores(path: str | os.PathLike[str], scores: Scores) -> None:
    table = pa.table(
        {
            "target": pa.array(np.asarray(scores.target, dtype=np.uint16)),
            "p_target": pa.array(np.asarray(scores.p_target, dtype=np.float32)),
            "argmax": pa.array(np.asarray(scores.argmax, dtype=np.uint16)),
        },
        schema=SCHEMA,
    )
    meta = {f"visrnn.{key}": str(getattr(scores, key)) for key in _META_KEYS}
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_scores(path: str | os.PathLike[str], model: str | None = None) -> Scores:
    """The scores file at ``path``; refused unless it holds ``model``'s scores, when given."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(
            f"{path} is not a readable Parquet file (truncated or damaged); {REBUILD}"
        ) from None
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    missing = [key for key in _META_KEYS if f"visrnn.{key}" not in meta]
    if missing or table.schema.remove_metadata() != SCHEMA:
        raise ValueError(
            f"{path} is not a visrnn scores file (missing {missing or 'the expected columns'}); "
            f"{REBUILD}"
        )
    if model is not None and meta["visrnn.model"] != model:
        raise ValueError(
            f"{path} holds the scores of {meta['visrnn.model']}, not of {model}; {REBUILD}"
        )
    return Scores(
        **{key: meta[f"visrnn.{key}"] for key in _META_KEYS},
        target=table["target"].to_numpy().astype(np.int64),
        p_target=table["p_target"].to_numpy(),
        argmax=table["argmax"].to_numpy().astype(np.int64),
    )


def read_comparable(paths: Sequence[str | os.PathLike[str]]) -> list[Scores]:
    """Read several scores files and check that they score the same test positions.

    Each file must hold the model it is named after, as the pipeline lays them out
    (``eval/lstm-3L-130k.parquet`` holds lstm-3L-130k's scores): a file copied over another
    is refused, not compared.

    Raises ``ValueError`` naming the first file whose vocabulary or test split differs from
    the first file's.
    """
    all_scores = [read_scores(path, model=Path(path).stem) for path in paths]
    if not all_scores:
        return all_scores
    reference, ref_path = all_scores[0], Path(paths[0])
    for path, scores in zip(paths[1:], all_scores[1:], strict=True):
        for key, what in (("vocab_sha256", "vocabulary"), ("test_sha256", "test split")):
            if getattr(scores, key) != getattr(reference, key):
                raise ValueError(
                    f"{path} was scored with another {what} than {ref_path} "
                    f"({key} {getattr(scores, key)[:12]} != {getattr(reference, key)[:12]}); "
                    "rerun both with the same data"
                )
        if not np.array_equal(scores.target, reference.target):
            raise ValueError(f"{path} has other test targets than {ref_path}")
    return all_scores


def require_test_split(
    scores: Scores,
    test_ids: np.ndarray,
    scores_path: str | os.PathLike[str],
    test_path: str | os.PathLike[str],
) -> None:
    """Raise unless ``scores`` (read from ``scores_path``) score the split ``test_ids``."""
    if not np.array_equal(scores.target, np.asarray(test_ids)[1:]):
        raise ValueError(f"{scores_path} does not score {test_path}; rerun its evaluation")


def bootstrap_std(nll: np.ndarray, samples: int = 100, seed: int = 0, chunk: int = 10) -> float:
    """Standard deviation of the mean loss over ``samples`` bootstrap resamples of positions.

    Vectorised in chunks of resamples so memory stays at ``chunk * N`` indices.
    """
    rng = np.random.default_rng(seed)
    values = np.asarray(nll, dtype=np.float64)
    n = len(values)
    means = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        idx = rng.integers(0, n, size=(k, n), dtype=np.int64)
        means.append(values[idx].mean(axis=1))
    return float(np.concatenate(means).std(ddof=1))
