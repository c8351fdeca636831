from __future__ import annotations

import numpy as np
import pytest

from visrnn.common.files import read_table, write_csv
from visrnn.figures.overlap import OVERLAP_COLUMNS, error_overlap, plot_error_overlap

NAMES = ("lstm", "nnn", "ngram")
# Exactly these models err (p < 0.5) at this many positions.
KNOWN_REGIONS = {
    ("lstm",): 3,
    ("nnn",): 5,
    ("ngram",): 7,
    ("lstm", "nnn"): 11,
    ("lstm", "ngram"): 13,
    ("nnn", "ngram"): 17,
    ("lstm", "nnn", "ngram"): 19,
    (): 23,
}


def _scores_with_known_regions() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    columns = {name: [] for name in NAMES}
    for members, count in KNOWN_REGIONS.items():
        for name in NAMES:
            # Errors just below the threshold, hits at or above it (0.5 is not an error).
            low, high = (0.0, 0.4999) if name in members else (0.5, 1.0)
            columns[name].extend(rng.uniform(low, high, size=count))
    order = rng.permutation(sum(KNOWN_REGIONS.values()))
    scores = {name: np.asarray(values)[order] for name, values in columns.items()}
    scores["lstm"][np.flatnonzero(scores["lstm"] >= 0.5)[0]] = 0.5  # boundary: a hit
    return scores


def test_region_counts_match_a_hand_made_example() -> None:
    rows = error_overlap(_scores_with_known_regions())
    total = sum(KNOWN_REGIONS.values())
    by_region = {row["region"]: row for row in rows}
    assert len(rows) == 8
    for members, count in KNOWN_REGIONS.items():
        row = by_region[" & ".join(members) if members else "none"]
        assert row["count"] == count
        assert row["models"] == len(members)
        assert row["fraction"] == pytest.approx(count / total)
        assert row["test_positions"] == total
    assert rows[-1]["region"] == "none"


def test_regions_add_up_to_the_union_of_errors() -> None:
    rng = np.random.default_rng(1)
    scores = {name: rng.random(10_000) for name in NAMES}
    rows = error_overlap(scores)
    union = np.logical_or.reduce([p < 0.5 for p in scores.values()]).sum()
    assert sum(row["count"] for row in rows if row["region"] != "none") == union
    assert sum(row["count"] for row in rows) == 10_000
    for name, p in scores.items():
        assert (
            sum(row["count"] for row in rows if name in row["region"].split(" & "))
            == (p < 0.5).sum()
        )


def test_error_overlap_refuses_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        error_overlap({"a": np.zeros(3), "b": np.zeros(4)})


def test_plot_writes_a_venn_diagram_from_csv_rows(tmp_path) -> None:
    write_csv(
        tmp_path / "overlap.csv", error_overlap(_scores_with_known_regions()), OVERLAP_COLUMNS
    )
    plot_error_overlap(read_table(tmp_path / "overlap.csv"), NAMES, tmp_path / "overlap.png")
    assert (tmp_path / "overlap.png").stat().st_size > 1000


def test_plot_refuses_rows_of_other_models(tmp_path) -> None:
    rows = error_overlap(_scores_with_known_regions())
    with pytest.raises(ValueError, match="no region"):
        plot_error_overlap(rows, ("lstm", "nnn", "kenlm"), tmp_path / "overlap.png")
    with pytest.raises(ValueError, match="exactly three"):
        plot_error_overlap(rows, ("lstm", "nnn"), tmp_path / "overlap.png")
