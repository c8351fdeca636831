"""Seed spread of a kernel corpus's file draw: rows per seed, summary, figure; on the demo
run, one row per configured seed, the configured draw being the main run's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from visrnn.common.files import read_table
from visrnn.figures.seed_spread import SEED_COLUMNS, plot_seed_spread, seed_rows, spread_summary
from visrnn.scoring.scores import read_scores


def _files(*sizes: int) -> list[dict[str, object]]:
    total = sum(sizes)
    return [
        {"path": f"f{i}.c", "bytes": size, "share": size / total, "splits": "train"}
        for i, size in enumerate(sizes)
    ]


def test_seed_rows_name_each_draws_largest_file(tmp_path: Path) -> None:
    losses = {
        8: {"model": "ngram-20", "test_loss": 0.9, "bootstrap_std": 0.01},
        7: {"model": "ngram-20", "test_loss": 0.7, "bootstrap_std": 0.02},
    }
    dropped = {"path": "asic_reg/x.h", "bytes": 10**6, "share": 0.0, "splits": ""}
    rows = seed_rows(losses, {7: [*_files(10, 30, 60), dropped], 8: _files(50, 50)})
    assert [row["seed"] for row in rows] == [7, 8]
    assert (rows[0]["files"], rows[0]["largest_file"], rows[0]["largest_share"]) == (
        3,
        "f2.c",
        0.6,
    )
    assert set(rows[0]) == set(SEED_COLUMNS)
    assert spread_summary(rows) == "ngram-20: 0.8000 ± 0.1414 nats over 2 seeds (0.7000 to 0.9000)"
    plot_seed_spread(rows, 0.889, tmp_path / "seeds.png", "lk")
    assert (tmp_path / "seeds.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.e2e
def test_demo_run_seed_spread(demo_run: Path) -> None:
    config = yaml.safe_load((demo_run / "config.yaml").read_text())
    results = demo_run / "results" / "lk"
    rows = read_table(results / "tables" / "ngram_seeds.csv")
    first = config["datasets"]["lk"]["shuffle_seed"]
    assert [row["seed"] for row in rows] == [
        first + i for i in range(config["analysis"]["shuffle_seeds"])
    ]
    n = config["analysis"]["reference_ngram"]
    main = read_scores(results / "eval" / f"ngram-{n}.parquet")
    assert rows[0]["test_loss"] == pytest.approx(main.loss, abs=1e-5)
    for row in rows[1:]:  # another draw: its own corpus, split and n-gram
        seed_dir = results / "seeds" / str(row["seed"])
        scores = read_scores(seed_dir / "eval" / f"ngram-{n}.parquet")
        assert row["test_loss"] == pytest.approx(scores.loss, abs=1e-5)
        files = read_table(seed_dir / "data" / "corpus_files.csv")
        assert sum(f["bytes"] for f in files) == config["datasets"]["lk"]["max_bytes"]
    assert (results / "figures" / "ngram_seeds.png").read_bytes()[:4] == b"\x89PNG"
    files = read_table(results / "tables" / "corpus_files.csv")
    assert sum(f["bytes"] for f in files) == len((results / "data" / "corpus.bin").read_bytes())
    assert [f["offset"] for f in files] == sorted(f["offset"] for f in files)
