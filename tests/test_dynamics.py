from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from visrnn.common.files import read_table, write_csv
from visrnn.data.splits import split_bounds
from visrnn.figures.dynamics import (
    DYNAMICS_COLUMNS,
    compare_streams,
    plot_dynamics,
    snapshot_iterations,
    symmetric_kl,
)
from visrnn.training.loop import batches_per_epoch

REPO = Path(__file__).resolve().parents[1]
#: Corpus bytes of the paper preset where its config has no max_bytes (WP with CRLF).
PAPER_CORPUS_BYTES = {"wp": 3_258_250}


def _random_logprobs(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    logits = rng.normal(0.0, 2.0, size=(n, k))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def test_kl_of_a_distribution_with_itself_is_zero() -> None:
    logp = _random_logprobs(np.random.default_rng(0), 50, 7)
    np.testing.assert_allclose(symmetric_kl(logp, logp), 0.0, atol=1e-12)


def test_symmetric_kl_matches_numpy_and_is_symmetric() -> None:
    rng = np.random.default_rng(1)
    logp, logq = _random_logprobs(rng, 200, 11), _random_logprobs(rng, 200, 11)
    p, q = np.exp(logp), np.exp(logq)
    direct = (p * np.log(p / q)).sum(axis=1) + (q * np.log(q / p)).sum(axis=1)
    values = symmetric_kl(logp, logq)
    assert isinstance(values, np.ndarray) and values.shape == (200,)
    np.testing.assert_allclose(values, direct, rtol=1e-10)
    np.testing.assert_allclose(symmetric_kl(logq, logp), values, rtol=1e-12)
    assert (values > 0).all()


def test_symmetric_kl_keeps_tensors_and_handles_impossible_symbols() -> None:
    logp = torch.log(torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]))
    logq = torch.log(torch.tensor([[0.25, 0.75, 0.0], [0.5, 0.5, 0.0]]))
    values = symmetric_kl(logp, logq)
    assert isinstance(values, torch.Tensor)
    expected_first = (0.5 - 0.25) * np.log(0.5 / 0.25) + (0.5 - 0.75) * np.log(0.5 / 0.75)
    assert values[0].item() == pytest.approx(expected_first)
    assert values[1].item() == float("inf")  # q gives a symbol p rules out


def test_chunked_streaming_equals_the_unchunked_result() -> None:
    rng = np.random.default_rng(2)
    n, k = 1000, 9
    snapshot, baseline = _random_logprobs(rng, n, k), _random_logprobs(rng, n, k)
    targets = rng.integers(0, k, size=n)
    whole = compare_streams([snapshot], [baseline], targets)
    bounds = [0, 1, 300, 301, 777, n]
    chunked = compare_streams(
        (torch.from_numpy(snapshot[a:b]) for a, b in pairwise(bounds)),
        (baseline[a:b] for a, b in pairwise(bounds)),
        targets,
    )
    assert chunked == pytest.approx(whole, rel=1e-12)
    assert whole["kl"] == pytest.approx(symmetric_kl(snapshot, baseline).mean())
    snapshot_loss = -snapshot[np.arange(n), targets].mean()
    baseline_loss = -baseline[np.arange(n), targets].mean()
    assert whole["snapshot_loss"] == pytest.approx(snapshot_loss)
    assert whole["loss_difference"] == pytest.approx(baseline_loss - snapshot_loss)


def test_loss_difference_is_positive_when_the_snapshot_predicts_better() -> None:
    targets = np.array([0, 1, 0])
    good = np.log(np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1]]))
    uniform = np.log(np.full((3, 2), 0.5))
    assert compare_streams([good], [uniform], targets)["loss_difference"] > 0
    assert compare_streams([uniform], [good], targets)["loss_difference"] < 0


def test_compare_streams_refuses_misaligned_streams() -> None:
    logp = np.log(np.full((4, 2), 0.5))
    targets = np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="different chunks"):
        compare_streams([logp[:2], logp[2:]], [logp[:2]], targets)
    with pytest.raises(ValueError, match="must be equal"):
        compare_streams([logp[:3], logp[3:]], [logp[:2], logp[2:]], targets)
    with pytest.raises(ValueError, match="cover 2 positions"):
        compare_streams([logp[:2]], [logp[:2]], targets)


def test_plot_from_csv_rows(tmp_path) -> None:
    rows = [
        {"iteration": it, "baseline": f"{n}-NN", "kl": 1.0 / (n + it), "loss_difference": it - n}
        for it in (0, 100, 200)
        for n in (1, 2, 10)
    ]
    write_csv(tmp_path / "dynamics.csv", rows, DYNAMICS_COLUMNS)
    plot_dynamics(read_table(tmp_path / "dynamics.csv"), tmp_path / "dynamics.png")
    assert (tmp_path / "dynamics.png").stat().st_size > 1000


def test_compare_all_matches_the_direct_divergence_of_every_pair() -> None:
    from visrnn.figures.dynamics import compare_all

    rng = np.random.default_rng(3)

    def log_softmax(x: np.ndarray) -> np.ndarray:
        return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))

    snapshots = [log_softmax(rng.normal(size=(50, 7))) for _ in range(2)]
    baselines = [log_softmax(rng.normal(size=(50, 7)) * 2) for _ in range(3)]
    targets = rng.integers(0, 7, 50)
    rows = compare_all(
        {10 * i: [s[:20], s[20:]] for i, s in enumerate(snapshots)},
        {f"{j}-NN": [b[:20], b[20:]] for j, b in enumerate(baselines)},
        targets,
    )
    assert len(rows) == 6
    for row in rows:
        s = snapshots[row["iteration"] // 10]
        b = baselines[int(str(row["baseline"]).split("-")[0])]
        assert row["kl"] == pytest.approx(symmetric_kl(s, b).mean(), rel=1e-9)
        nll_s = -s[np.arange(50), targets].mean()
        nll_b = -b[np.arange(50), targets].mean()
        assert row["loss_difference"] == pytest.approx(nll_b - nll_s, rel=1e-9)


@pytest.mark.parametrize("preset", ["config.yaml", ".test/config.yaml"])
def test_snapshots_span_the_first_epochs_of_every_dataset(preset: str) -> None:
    config = yaml.safe_load((REPO / preset).read_text())
    dynamics, training = config["analysis"]["dynamics"], config["training"]
    batch, steps = training["batch_size"], training["seq_length"]
    fractions = sorted(dynamics["epoch_fractions"])
    per_epoch = {}
    for name, dataset in config["datasets"].items():
        size = dataset.get("max_bytes") or PAPER_CORPUS_BYTES[name]
        start, stop = split_bounds(size, dataset["split"])[0]
        per_epoch[name] = batches_per_epoch(stop - start, batch, steps)
        iterations = snapshot_iterations(fractions, stop - start, batch, steps, dynamics["epochs"])
        assert iterations[-1] == dynamics["epochs"] * per_epoch[name]  # through the last epoch
        assert iterations[0] <= 0.01 * per_epoch[name] + 1  # from the first batches on
        in_epochs = np.asarray(iterations) / per_epoch[name]
        np.testing.assert_allclose(in_epochs, fractions, atol=0.5 / per_epoch[name])
    if preset == "config.yaml":  # the datasets differ in size: one iteration list cannot fit both
        assert per_epoch == {"wp": 260, "lk": 558}


def test_snapshot_fractions_round_and_are_checked() -> None:
    # 95 characters, 2 streams x 5 steps: 9 iterations per epoch.
    assert snapshot_iterations([0.01, 0.5, 0.51, 2.0], 95, 2, 5, 2) == (1, 4, 5, 18)
    assert snapshot_iterations([0.1, 0.11], 95, 2, 5, 1) == (1,)  # one snapshot, a warning
    with pytest.raises(ValueError, match=r"epoch_fractions \[0.5, 3.0\] must be in \(0, 2\]"):
        snapshot_iterations([3.0, 0.5], 95, 2, 5, 2)
    with pytest.raises(ValueError, match="holds no batch"):
        snapshot_iterations([0.5], 9, 2, 5, 1)
