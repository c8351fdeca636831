from __future__ import annotations

import numpy as np
import pytest
import torch

from visrnn.models.nnn import NNN, NNNConfig
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.scoring.evaluation import log_prob_chunks, score_sequence
from visrnn.scoring.scores import (
    Scores,
    bootstrap_std,
    read_comparable,
    read_scores,
    require_test_split,
    write_scores,
)


@pytest.mark.parametrize(
    "model",
    [CharRNN(ModelConfig("lstm", 9, 8, 2)), NNN(NNNConfig(3, 9, 8))],
    ids=["lstm", "nnn"],
)
def test_scores_carry_state_through_the_whole_split(model) -> None:
    torch.manual_seed(0)
    ids = np.random.default_rng(1).integers(0, 9, 300).astype(np.uint8)
    p_target, argmax = score_sequence(model, ids, torch.device("cpu"), chunk=37)
    logits, _ = model(torch.from_numpy(ids[:-1].astype(np.int64)).unsqueeze(0))
    probs = logits[0].softmax(-1)
    expected = probs[torch.arange(299), torch.from_numpy(ids[1:].astype(np.int64))]
    assert len(p_target) == len(ids) - 1
    assert np.allclose(p_target, expected.detach().numpy(), atol=1e-6)
    assert np.array_equal(argmax, probs.argmax(-1).numpy())
    chunks = list(log_prob_chunks(model, ids, torch.device("cpu"), chunk=100))
    assert [len(c) for c in chunks] == [100, 100, 99]
    assert torch.allclose(torch.cat(chunks).exp().sum(-1), torch.ones(299), atol=1e-5)


def _scores(model: str, test_sha: str = "t", vocab_sha: str = "v") -> Scores:
    rng = np.random.default_rng(len(model))
    return Scores(
        model,
        "wp",
        vocab_sha,
        test_sha,
        rng.integers(0, 5, 50),
        rng.random(50).astype(np.float32),
        rng.integers(0, 5, 50),
    )


def test_scores_round_trip_through_parquet(tmp_path) -> None:
    scores = _scores("lstm-1L-x")
    write_scores(tmp_path / "a.parquet", scores)
    back = read_scores(tmp_path / "a.parquet")
    assert back.model == "lstm-1L-x" and back.test_sha256 == "t"
    assert np.array_equal(back.target, scores.target)
    assert np.array_equal(back.p_target, scores.p_target)
    assert back.loss == pytest.approx(-np.log(scores.p_target.astype(np.float64)).mean())


def test_scores_of_another_split_or_vocabulary_are_refused(tmp_path) -> None:
    write_scores(tmp_path / "a.parquet", _scores("a"))
    write_scores(tmp_path / "b.parquet", _scores("b", test_sha="other"))
    write_scores(tmp_path / "c.parquet", _scores("c", vocab_sha="other"))
    with pytest.raises(ValueError, match=r"b.parquet .* another test split"):
        read_comparable([tmp_path / "a.parquet", tmp_path / "b.parquet"])
    with pytest.raises(ValueError, match=r"c.parquet .* another vocabulary"):
        read_comparable([tmp_path / "a.parquet", tmp_path / "c.parquet"])


def test_scores_of_other_test_characters_are_refused() -> None:
    scores = _scores("a")
    test_ids = np.concatenate([[0], scores.target])
    require_test_split(scores, test_ids, "a.parquet", "test.npy")
    test_ids[-1] = (test_ids[-1] + 1) % 5
    with pytest.raises(ValueError, match=r"a.parquet does not score test.npy; rerun"):
        require_test_split(scores, test_ids, "a.parquet", "test.npy")


def test_bootstrap_std_matches_the_standard_error() -> None:
    nll = np.random.default_rng(0).exponential(1.0, 20000)
    std = bootstrap_std(nll, samples=100, seed=0)
    assert std == pytest.approx(nll.std() / np.sqrt(len(nll)), rel=0.25)
    assert bootstrap_std(nll, samples=100, seed=0) == std  # seeded
    assert bootstrap_std(np.ones(100)) == 0.0


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"garbage" * 50],
    ids=["truncated", "garbage"],
)
def test_an_unreadable_scores_file_names_the_file(tmp_path, damage) -> None:
    path = tmp_path / "lstm-1L-x.parquet"
    write_scores(path, _scores("lstm-1L-x"))
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError) as refused:
        read_comparable([path])
    assert str(refused.value) == (
        f"{path} is not a readable Parquet file (truncated or damaged); "
        "delete it and run snakemake again to rebuild it"
    )


def test_a_scores_file_copied_over_another_models_is_refused(tmp_path) -> None:
    write_scores(tmp_path / "lstm-1L-x.parquet", _scores("lstm-1L-x"))
    write_scores(tmp_path / "lstm-3L-x.parquet", _scores("lstm-1L-x"))
    with pytest.raises(ValueError, match=r"lstm-3L-x.parquet holds the scores of lstm-1L-x, not"):
        read_comparable([tmp_path / "lstm-1L-x.parquet", tmp_path / "lstm-3L-x.parquet"])
    with pytest.raises(ValueError, match=r"holds the scores of lstm-1L-x, not of lstm-2L"):
        read_scores(tmp_path / "lstm-1L-x.parquet", model="lstm-2L")
