"""Interventions, ablation and sampling (``visrnn.inside.interventions``, ``.ablation``,
``.sampling``): the clamped pass equals the model when nothing is held, and a hand-built
LSTM whose one cell tracks quotes shows what silencing and clamping it do."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from visrnn import cli
from visrnn.data.splits import Vocab
from visrnn.figures.oracles import TextWords
from visrnn.inside.ablation import (
    ABLATION_COLUMNS,
    Ablation,
    ablate,
    ablation_rows,
    ablations,
    error_families,
)
from visrnn.inside.interventions import (
    Clamp,
    ClampedModel,
    check_clamps,
    score_interventions,
    silence,
    unit_means,
)
from visrnn.inside.sampling import sample
from visrnn.inside.signals import structural_signals
from visrnn.models.checkpoints import save_checkpoint
from visrnn.models.recurrent import CharRNN, ModelConfig
from visrnn.scoring.evaluation import score_sequence
from visrnn.scoring.scores import scores_for_test_split

QUOTE_VOCAB = Vocab.from_bytes(b'"ab')  # ids: '"' 0, 'a' 1, 'b' 2, unseen 3


def random_model(model_type: str, variant: str = "paper", layers: int = 2) -> CharRNN:
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(model_type, 7, 6, layers, gru_variant=variant))
    model.init_uniform(0.5)
    return model.eval()


def quote_model() -> CharRNN:
    """A 1-layer LSTM of 2 cells whose cell 0 is +1 inside double quotes and -1 outside (it
    toggles on every quote, through its own h), and whose decoder writes 'b' inside quotes
    and 'a' outside from it; cell 1 does nothing."""
    model = CharRNN(ModelConfig("lstm", QUOTE_VOCAB.size, 2, 1))
    quote = QUOTE_VOCAB.encode(b'"')[0]
    a, b = QUOTE_VOCAB.encode(b"ab")
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()
        rnn = model.rnn
        # Rows of the LSTM blocks i, f, g, o for cell 0 (0, 2, 4, 6) and cell 1 (1, 3, 5, 7).
        rnn.weight_ih_l0[0] = -20.0
        rnn.weight_ih_l0[0, quote] = 20.0  # write on a quote only
        rnn.weight_ih_l0[2] = 20.0
        rnn.weight_ih_l0[2, quote] = -20.0  # forget on a quote only
        rnn.weight_hh_l0[4, 0] = -10.0  # candidate: the opposite of the current state
        rnn.bias_ih_l0[4] = 3.0  # (from the zero state: inside)
        rnn.bias_ih_l0[6] = 20.0  # output gate open
        rnn.bias_ih_l0[1] = -20.0  # cell 1: never writes,
        rnn.bias_ih_l0[3] = 20.0  # never forgets, stays 0
        rnn.bias_ih_l0[7] = 20.0
        model.decoder.weight[b, 0] = 16.0
        model.decoder.bias[a] = 6.0
        model.decoder.bias[quote] = -6.0  # rarely a quote: samples stay on one side
        model.decoder.bias[QUOTE_VOCAB.unk_id] = -20.0
    return model.eval()


def quoted_text(length: int = 3000, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    parts = []
    while sum(map(len, parts)) < length:
        parts += [b"a" * int(rng.integers(3, 12)), b'"', b"b" * int(rng.integers(3, 12)), b'"']
    return b"".join(parts)[:length]


@pytest.mark.parametrize(
    ("model_type", "variant"),
    [("rnn", "paper"), ("lstm", "paper"), ("gru", "paper"), ("gru", "cudnn")],
)
def test_nothing_held_is_the_model(model_type: str, variant: str) -> None:
    """Bit for bit ``stepwise`` (the same equations in the same order, batch 1); the fused
    kernels to float32 rounding; a row of a batch to float32 rounding of a batch of one."""
    model = random_model(model_type, variant)
    ids = torch.randint(0, 7, (1, 40), generator=torch.Generator().manual_seed(3))
    runner = ClampedModel(model, [[]])
    logits, _ = runner.step(ids, runner.zero_state())
    reference, _, _ = model.stepwise(ids)
    assert torch.equal(logits, reference)
    fused, _ = model(ids)
    torch.testing.assert_close(logits, fused, atol=1e-5, rtol=1e-5)
    batch = ClampedModel(model, [[], [], []])
    rows, _ = batch.step(ids, batch.zero_state())
    for row in rows:
        torch.testing.assert_close(row, logits[0], atol=1e-6, rtol=1e-6)


def test_state_carries_across_chunks() -> None:
    model = random_model("lstm")
    ids = np.random.default_rng(0).integers(0, 7, 300)
    one, _ = score_interventions(model, ids, [[]], chunk=1000)
    chunked, argmax = score_interventions(model, ids, [[]], chunk=64)
    np.testing.assert_array_equal(one, chunked)
    p_fused, argmax_fused = score_sequence(model, ids, torch.device("cpu"))
    np.testing.assert_allclose(chunked[0], p_fused, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(argmax[0], argmax_fused)


def test_a_held_unit_changes_only_its_row() -> None:
    model = random_model("lstm")
    ids = np.random.default_rng(0).integers(0, 7, 200)
    p, _ = score_interventions(model, ids, [[], [Clamp(1, "c", 2, 0.0)], [Clamp(0, "h", 4, 0.9)]])
    np.testing.assert_allclose(p[0], score_interventions(model, ids, [[]])[0][0], rtol=1e-6)
    assert not np.allclose(p[1], p[0]) and not np.allclose(p[2], p[0])


def test_clamps_are_checked_against_the_model() -> None:
    model = random_model("gru")
    for clamp, message in [
        (Clamp(2, "h", 0, 0.0), "layer 2 out of range"),
        (Clamp(0, "c", 0, 0.0), "no state 'c'"),
        (Clamp(0, "h", 6, 0.0), "unit 6 out of range; layers have 6 units"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_clamps(model, [clamp])
    with pytest.raises(ValueError, match="held twice"):
        check_clamps(model, [Clamp(0, "h", 1, 0.0), Clamp(0, "h", 1, 1.0)])


@pytest.mark.parametrize("spec", ["0:c:17", "a:c:1=1", "0:c:1=x", "0:c:1=nan", "0-c-1=1"])
def test_a_bad_clamp_spec_says_the_format(spec: str) -> None:
    with pytest.raises(ValueError, match="LAYER:STATE:UNIT=VALUE"):
        Clamp.parse(spec)


def test_a_clamp_spec_parses() -> None:
    assert Clamp.parse(" 1:h:7=-0.5 ") == Clamp(1, "h", 7, -0.5)
    assert str(Clamp(1, "h", 7, -0.5)) == "1:h:7=-0.5"


def test_the_planted_cell_tracks_quotes() -> None:
    model = quote_model()
    text = quoted_text()
    ids = QUOTE_VOCAB.encode(text)
    inside = structural_signals(text, code=False)["in_double_quotes"]
    _, _, activations = model.stepwise(torch.as_tensor(ids[None].astype(np.int64)))
    cell = activations[0]["c"][0, :, 0].numpy()
    assert np.all((cell > 0.9) == (inside > 0))
    assert np.all(activations[0]["c"][0, :, 1].numpy() == 0)


def test_silencing_the_quote_cell_costs_inside_quotes_only() -> None:
    model = quote_model()
    text = quoted_text()
    ids = QUOTE_VOCAB.encode(text)
    signals = structural_signals(text, code=False)
    intact = scores_for_test_split(
        "quote", "syn", QUOTE_VOCAB.sha256, ids, *score_sequence(model, ids, torch.device("cpu"))
    )
    ranking = [
        {"signal": "in_double_quotes", "rank": 1, "layer": 0, "activation": "c", "unit": 0,
         "correlation": 0.99},
    ]  # fmt: skip
    chosen = ablations(ranking, hidden_size=2, modes=["zero", "mean"], seed=0)
    assert [(a.role, a.unit, a.silence) for a in chosen] == [
        ("cell", 0, "zero"), ("control", 1, "zero"), ("cell", 0, "mean"), ("control", 1, "mean")
    ]  # fmt: skip
    base, ablated = ablate(model, intact, ids, chosen)
    # The reference: a model that always says 'a' with p 0.9 (beaten inside quotes).
    reference = scores_for_test_split(
        "ref", "syn", QUOTE_VOCAB.sha256, ids, np.where(ids[1:] == 1, 0.9, 0.05), ids[1:] * 0
    )
    test = TextWords.build(text, text)
    settings = {"order": ["word_model", "punctuation"]}
    rows = ablation_rows(
        "quote", chosen, base, ablated, text, signals, reference, error_families(test, {}, settings)
    )
    assert all(set(row) == set(ABLATION_COLUMNS) for row in rows)

    def delta(role: str, group: str, subset: str, mode: str = "zero") -> dict:
        return next(
            r
            for r in rows
            if (r["role"], r["group"], r["subset"], r["silence"]) == (role, group, subset, mode)
        )

    for mode in ("zero", "mean"):
        assert delta("cell", "signal", "on", mode)["delta_loss"] > 3.0
        assert abs(delta("cell", "signal", "off", mode)["delta_loss"]) < 0.01
        for subset in ("on", "off"):
            assert delta("control", "signal", subset, mode)["delta_loss"] == 0.0
    assert delta("cell", "beats_ngram", "yes")["delta_loss"] > 1.0
    assert delta("cell", "class", "letter")["delta_loss"] > 1.0
    # Inside quotes the silenced model says 'a' for 'b': new errors, all inside words that
    # no oracle of this chain explains but after a quote (the first 'b' after one).
    on = delta("cell", "signal", "on")
    assert on["errors"] < 0.2 * on["positions"] < on["ablated_errors"]
    remaining = delta("cell", "category", "remaining")
    assert remaining["ablated_errors"] > remaining["errors"] + 0.5 * on["positions"]
    assert delta("control", "category", "remaining")["ablated_errors"] == remaining["errors"]


def test_mean_silencing_holds_the_test_mean() -> None:
    model = quote_model()
    ids = QUOTE_VOCAB.encode(quoted_text())
    means = unit_means(model, ids, [(0, "c")])
    _, _, activations = model.stepwise(torch.as_tensor(ids[None].astype(np.int64)))
    np.testing.assert_allclose(means[0, "c"], activations[0]["c"][0].mean(0).numpy(), atol=1e-6)
    clamps = silence(0, "c", [0], "mean", means)
    assert clamps == [Clamp(0, "c", 0, float(means[0, "c"][0]))]
    with pytest.raises(ValueError, match="unit means"):
        silence(0, "h", [0], "mean", means)
    assert Ablation("s", "cell", 0, "c", 1, 0.5, "zero").clamps() == [Clamp(0, "c", 1, 0.0)]


def test_the_same_seed_samples_the_same_text() -> None:
    model = random_model("lstm")
    vocab = Vocab.from_bytes(b"abcdef")
    first = sample(model, vocab, b"ab", 80, temperature=1.0, seed=5)
    assert len(first) == 80 and set(first) <= set(b"abcdef?")
    assert sample(model, vocab, b"ab", 80, temperature=1.0, seed=5) == first
    assert sample(model, vocab, b"ab", 80, temperature=1.0, seed=6) != first
    assert len(sample(model, vocab, b"", 30, seed=5)) == 30


def test_temperature_zero_follows_the_argmax() -> None:
    model = random_model("gru")
    vocab = Vocab.from_bytes(b"abcdef")
    prime = b"abcab"
    text = sample(model, vocab, prime, 50, temperature=0.0, seed=1)
    assert sample(model, vocab, prime, 50, temperature=0.0, seed=99) == text
    ids = torch.as_tensor(vocab.encode(prime + text).astype(np.int64))[None]
    logits, _ = model(ids)  # the fused kernels, read once over the whole text
    greedy = logits[0, len(prime) - 1 : -1].argmax(-1)
    assert vocab.decode(greedy.numpy()) == text


def test_clamping_the_quote_cell_writes_inside_quotes() -> None:
    model = quote_model()
    free = sample(model, QUOTE_VOCAB, b"aaa", 300, seed=0)
    held = sample(model, QUOTE_VOCAB, b"aaa", 300, seed=0, clamps=[Clamp(0, "c", 0, 1.0)])
    assert free.count(b"b") < 0.1 * len(free)
    assert held.count(b"b") > 0.9 * len(held)
    silenced = sample(model, QUOTE_VOCAB, b'aa"bb', 300, seed=0, clamps=[Clamp(0, "c", 0, -1.0)])
    assert silenced.count(b"a") > 0.9 * len(silenced)


def test_sampling_refuses_what_the_model_cannot_read() -> None:
    model = quote_model()
    with pytest.raises(ValueError, match=r"2 character\(s\) outside .*: <nl> x;"):
        sample(model, QUOTE_VOCAB, b'ax"\nx', 10)
    with pytest.raises(ValueError, match="unit 5 out of range"):
        sample(model, QUOTE_VOCAB, b"a", 10, clamps=[Clamp(0, "c", 5, 1.0)])
    with pytest.raises(ValueError, match="temperature"):
        sample(model, QUOTE_VOCAB, b"a", 10, temperature=-1)


def _results_with_quote_model(root: Path) -> Path:
    """A results folder as the pipeline lays it out, holding the quote model as lstm-1L-q."""
    QUOTE_VOCAB.save(root / "results" / "wp" / "data" / "vocab.json")
    path = root / "results" / "wp" / "models" / "lstm-1L-q" / "best.pt"
    path.parent.mkdir(parents=True)
    save_checkpoint(path, quote_model(), model_id="lstm-1L-q", vocab_sha256=QUOTE_VOCAB.sha256)
    return path


def test_visrnn_sample_prints_the_prime_and_a_repeatable_sample(tmp_path, capsys) -> None:
    checkpoint = _results_with_quote_model(tmp_path)
    args = ["sample", str(checkpoint), "--prime", "aa", "--length", "40", "--seed", "3"]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("aa") and len(first) == 2 + 40 + 1
    assert cli.main(args) == 0
    assert capsys.readouterr().out == first
    assert cli.main([*args, "--clamp", "0:c:0=1"]) == 0
    assert capsys.readouterr().out[2:].count("b") > 30


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prime", "a%a"], r"1 character\(s\) outside the model's vocabulary: %"),
        (["--clamp", "0:c:9=1"], "unit 9 out of range; layers have 2 units"),
        (["--clamp", "0:x:1=1"], "a lstm has no state 'x'"),
        (["--clamp", "0:c:1"], "expected LAYER:STATE:UNIT=VALUE"),
        (["--model", "gru-1L-q"], "holds lstm-1L-q"),
    ],
)
def test_visrnn_sample_says_what_is_wrong(tmp_path, capsys, extra, message) -> None:
    checkpoint = _results_with_quote_model(tmp_path)
    assert cli.main(["sample", str(checkpoint), "--length", "5", *extra]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_visrnn_sample_needs_a_vocabulary_it_can_find(tmp_path, capsys) -> None:
    checkpoint = _results_with_quote_model(tmp_path)
    moved = tmp_path / "elsewhere" / "best.pt"
    moved.parent.mkdir()
    checkpoint.rename(moved)
    assert cli.main(["sample", str(moved)]) == 2
    assert "give its model id with --model" in capsys.readouterr().err
    assert cli.main(["sample", str(moved), "--model", "lstm-1L-q"]) == 2
    assert "give the vocabulary of its dataset with --vocab" in capsys.readouterr().err
    vocab = tmp_path / "results" / "wp" / "data" / "vocab.json"
    assert cli.main(["sample", str(moved), "--model", "lstm-1L-q", "--vocab", str(vocab)]) == 0
