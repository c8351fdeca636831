from __future__ import annotations

import numpy as np
import pytest

from visrnn.common.files import read_table, write_csv
from visrnn.data.splits import Vocab
from visrnn.figures.advantage import (
    LEADING_COLUMNS,
    leading_characters,
    per_character_means,
    plot_leading_characters,
)


def test_per_character_means_by_hand() -> None:
    target = np.array([0, 1, 0, 2, 0])
    p_a = np.array([0.2, 0.5, 0.4, 0.9, 0.6])
    p_b = np.array([0.1, 0.1, 0.1, 0.3, 0.4])
    count, mean_a, mean_b = per_character_means(target, p_a, p_b, vocab_size=4)
    np.testing.assert_array_equal(count, [3, 1, 1, 0])
    np.testing.assert_allclose(mean_a[:3], [0.4, 0.5, 0.9])
    np.testing.assert_allclose(mean_b[:3], [0.2, 0.1, 0.3])
    assert np.isnan(mean_a[3]) and np.isnan(mean_b[3])


def test_per_character_means_refuses_ids_outside_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="outside"):
        per_character_means(np.array([0, 5]), np.ones(2), np.ones(2), vocab_size=3)


def _crafted() -> tuple[Vocab, np.ndarray, np.ndarray, np.ndarray]:
    """40 symbols (and the unknown id): ids 0-11 favour a by 0.02*(id+1), ids 12-23 favour b
    by 0.02*(id-11), ids 24-38 tie, id 39 favours a hugely but occurs only 5 times."""
    vocab = Vocab((0x20, 0x0A, *range(0x41, 0x41 + 38)))  # space, newline, A, B, ...
    rng = np.random.default_rng(0)
    target, p_a, p_b = [], [], []
    for token_id in range(vocab.size - 1):
        n = 5 if token_id == 39 else 50
        base = rng.uniform(0.3, 0.6)
        if token_id < 12:
            lead = 0.02 * (token_id + 1)
        elif token_id < 24:
            lead = -0.02 * (token_id - 11)
        else:
            lead = 0.4 if token_id == 39 else 0.0
        noise = rng.normal(0.0, 0.01, size=n)
        noise -= noise.mean()  # the means are exact
        target += [token_id] * n
        p_a += list(base + lead + noise)
        p_b += list(base + noise)
    return vocab, np.array(target), np.array(p_a), np.array(p_b)


def test_leading_characters_finds_the_known_top_ten() -> None:
    vocab, target, p_a, p_b = _crafted()
    means = per_character_means(target, p_a, p_b, vocab.size)
    rows = leading_characters(*means, vocab, "lstm", "20-gram", k=10, min_count=20)
    a_rows = [row for row in rows if row["leader"] == "lstm"]
    b_rows = [row for row in rows if row["leader"] == "20-gram"]
    # id 39 leads most but occurs 5 times, under min_count: ids 11, 10, ..., 2 remain.
    assert [row["token_id"] for row in a_rows] == list(range(11, 1, -1))
    assert [row["token_id"] for row in b_rows] == list(range(23, 13, -1))
    assert [row["rank"] for row in a_rows] == list(range(1, 11))
    assert a_rows[0]["advantage"] == pytest.approx(0.24)
    assert b_rows[0]["p_leader"] - b_rows[0]["p_other"] == pytest.approx(0.24)
    assert a_rows[-1]["character"] == "A"  # id 2 is the first letter

    with_rare = leading_characters(*means, vocab, "lstm", "20-gram", k=10, min_count=5)
    assert with_rare[0]["token_id"] == 39


def test_leading_characters_names_whitespace_and_keeps_only_strict_leads() -> None:
    vocab = Vocab((0x20, 0x0A, 0x41))
    target = np.array([0, 0, 1, 1, 2, 2])
    p_a = np.array([0.9, 0.9, 0.8, 0.8, 0.5, 0.5])
    p_b = np.array([0.1, 0.1, 0.7, 0.7, 0.5, 0.5])
    rows = leading_characters(
        *per_character_means(target, p_a, p_b, vocab.size), vocab, "a", "b", min_count=2
    )
    assert [(row["leader"], row["character"]) for row in rows] == [("a", "<sp>"), ("a", "<nl>")]


def test_plot_from_csv_rows(tmp_path) -> None:
    vocab, target, p_a, p_b = _crafted()
    rows = leading_characters(*per_character_means(target, p_a, p_b, vocab.size), vocab, "a", "b")
    write_csv(tmp_path / "leading.csv", rows, LEADING_COLUMNS)
    plot_leading_characters(read_table(tmp_path / "leading.csv"), "a", "b", tmp_path / "lead.png")
    assert (tmp_path / "lead.png").stat().st_size > 1000
