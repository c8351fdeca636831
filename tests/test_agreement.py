from __future__ import annotations

import numpy as np
import pytest

from visrnn.common.files import read_table, write_csv
from visrnn.figures.agreement import (
    agreement_matrix,
    agreement_rows,
    budget_rank,
    plot_agreement_tsne,
    tsne_embedding,
)


def test_agreement_matrix_counts_matching_argmaxes() -> None:
    a = np.array([0, 1, 2, 3])
    b = np.array([0, 1, 0, 0])
    c = np.array([1, 1, 2, 3])
    agreement = agreement_matrix([a, b, c])
    expected = np.array([[1.0, 0.5, 0.75], [0.5, 1.0, 0.25], [0.75, 0.25, 1.0]])
    np.testing.assert_allclose(agreement, expected)


def test_identical_models_agree_fully_and_matrix_is_symmetric() -> None:
    rng = np.random.default_rng(0)
    argmaxes = [rng.integers(0, 5, size=1000) for _ in range(5)]
    argmaxes.append(argmaxes[0].copy())
    agreement = agreement_matrix(argmaxes)
    np.testing.assert_array_equal(agreement, agreement.T)
    np.testing.assert_array_equal(np.diag(agreement), 1.0)
    assert agreement[0, 5] == 1.0
    assert 0.1 < agreement[1, 2] < 0.3  # independent uniform draws over 5 ids agree ~1/5


def test_agreement_matrix_refuses_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        agreement_matrix([np.zeros(3), np.zeros(4)])


def test_tsne_works_for_four_models_and_is_seeded() -> None:
    agreement = np.array(
        [
            [1.0, 0.9, 0.2, 0.1],
            [0.9, 1.0, 0.15, 0.2],
            [0.2, 0.15, 1.0, 0.95],
            [0.1, 0.2, 0.95, 1.0],
        ]
    )
    first = tsne_embedding(agreement, seed=3)
    assert first.shape == (4, 2)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, tsne_embedding(agreement, seed=3))


def test_tsne_keeps_clusters_of_agreeing_models_together() -> None:
    rng = np.random.default_rng(1)
    groups = [rng.integers(0, 10, size=5000) for _ in range(2)]
    argmaxes = []
    for base in groups:
        for _ in range(5):
            noisy = base.copy()
            flip = rng.random(len(base)) < 0.1
            noisy[flip] = rng.integers(0, 10, size=flip.sum())
            argmaxes.append(noisy)
    embedding = tsne_embedding(agreement_matrix(argmaxes), seed=0)
    distances = np.linalg.norm(embedding[:, None] - embedding[None], axis=-1)
    within = [distances[i, j] for i in range(10) for j in range(10) if i != j and i // 5 == j // 5]
    between = [distances[i, j] for i in range(10) for j in range(10) if i // 5 != j // 5]
    assert max(within) < min(between)


def test_budget_rank_orders_numeric_names_by_value() -> None:
    ranks = budget_rank(["130k", "64", "1.2M", "small", "130k", "64k"])
    assert ranks == {"64": 0, "64k": 1, "130k": 2, "1.2M": 3, "small": 4}


def test_plot_and_rows(tmp_path) -> None:
    ids = ["lstm-1L-64", "gru-2L-64", "rnn-3L-128", "lstm-3L-128"]
    embedding = np.arange(8, dtype=float).reshape(4, 2)
    plot_agreement_tsne(embedding, ids, tmp_path / "tsne.png")
    assert (tmp_path / "tsne.png").stat().st_size > 1000

    agreement = np.eye(4)
    agreement[0, 1] = agreement[1, 0] = 0.25
    write_csv(tmp_path / "agreement.csv", agreement_rows(agreement, ids), ["model", *ids])
    rows = read_table(tmp_path / "agreement.csv")
    assert [row["model"] for row in rows] == ids
    assert rows[1]["lstm-1L-64"] == 0.25


def test_plot_refuses_unparseable_model_ids(tmp_path) -> None:
    with pytest.raises(ValueError, match="not a model id"):
        plot_agreement_tsne(np.zeros((1, 2)), ["5-gram"], tmp_path / "x.png")
