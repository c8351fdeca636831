"""What a cell writes (``visrnn.inside.sampling.sample_ranked_cells`` and its table and page):
a planted LSTM whose one cell drives quote output writes inside quotes when the cell is held
on, and the measure says so."""

from __future__ import annotations

import pytest
import torch

from visrnn.data.splits import Vocab
from visrnn.inside.sampling import (
    CLAMP_KINDS,
    CLAMPED_SAMPLE_COLUMNS,
    clamped_sample_rows,
    render_clamped_samples,
    sample,
    sample_ranked_cells,
)
from visrnn.models.recurrent import CharRNN, ModelConfig

VOCAB = Vocab.from_bytes(b'\n "ab')  # ids: LF 0, space 1, '"' 2, 'a' 3, 'b' 4, unseen 5
QUOTE_CELL = 0


def quote_writer() -> CharRNN:
    """A 1-layer LSTM of 2 cells that writes letters, spaces and line ends at random, from
    its decoder's biases alone: no input or recurrent weight, so every cell state stays 0
    unless held. Cell 0 drives quote output: held on, the decoder writes '"' often and no line
    end (no paragraph break to close a quote); held off, the reverse."""
    model = CharRNN(ModelConfig("lstm", VOCAB.size, 2, 1))
    newline, space, quote, a, b = VOCAB.encode(b'\n "ab')
    with torch.no_grad():
        for param in model.parameters():
            param.zero_()
        model.rnn.bias_ih_l0[6:8] = 20.0  # output gates open: h = tanh(c)
        bias = model.decoder.bias
        bias[a] = bias[b] = 1.5
        bias[space] = 1.0
        bias[newline] = 0.0
        bias[quote] = -4.0
        bias[VOCAB.unk_id] = -20.0
        model.decoder.weight[quote, QUOTE_CELL] = 5.0
        model.decoder.weight[newline, QUOTE_CELL] = -5.0
    return model.eval()


def inside_quotes(text: bytes) -> float:
    """The fraction of ``text``'s characters inside double quotes, counted here by hand (a
    quote toggles; a blank line closes an open quote), not by the code under test."""
    inside, blank_line, count = False, True, 0
    for byte in text:
        if byte == ord("\n"):
            if blank_line:  # nothing but spaces since the last line end
                inside = False
            blank_line = True
        else:
            blank_line = blank_line and byte == ord(" ")
            if byte == ord('"'):
                inside = not inside
        count += inside
    return count / len(text)


RANKING = [  # cell_ranking.csv rows: the quote cell, and a cell that anti-correlates
    {
        "signal": "in_double_quotes",
        "rank": 1,
        "layer": 0,
        "activation": "c",
        "unit": 0,
        "correlation": 0.8,
    },
    {
        "signal": "in_double_quotes",
        "rank": 2,
        "layer": 0,
        "activation": "c",
        "unit": 1,
        "correlation": -0.3,
    },
    {
        "signal": "paren_depth",
        "rank": 1,
        "layer": 0,
        "activation": "c",
        "unit": 1,
        "correlation": -0.5,
    },
]


def test_holding_the_quote_cell_on_writes_inside_quotes() -> None:
    model = quote_writer()
    cells = sample_ranked_cells(model, VOCAB, RANKING[:1], length=300, seed=7, value=2.0)
    (quote_cell,) = cells
    assert quote_cell.values == {"none": None, "on": 2.0, "off": -2.0}
    # One seed for all: the unclamped text is the plain sample, the clamped ones its clamps'.
    assert quote_cell.texts["none"] == sample(model, VOCAB, b"", 300, 1.0, 7)
    rows = clamped_sample_rows("lstm-1L-planted", cells, code=False)
    assert [tuple(r) for r in rows] == [CLAMPED_SAMPLE_COLUMNS] * 3
    measured = {r["clamp"]: r for r in rows if r["signal"] == "in_double_quotes"}
    for kind in CLAMP_KINDS:
        text = quote_cell.texts[kind]
        assert measured[kind]["characters"] == len(text) == 300
        assert measured[kind]["fraction_on"] == pytest.approx(inside_quotes(text), abs=1e-5)
    on, free = measured["on"]["fraction_on"], measured["none"]["fraction_on"]
    assert on > free + 0.2, (on, free)
    assert measured["off"]["fraction_on"] <= free
    assert quote_cell.texts["on"].count(b'"') > 10 * max(1, quote_cell.texts["none"].count(b'"'))


def test_a_cell_that_anticorrelates_is_held_on_at_minus_the_value() -> None:
    cells = sample_ranked_cells(quote_writer(), VOCAB, RANKING, top=2, length=20, value=1.5)
    assert [(c.signal, c.rank) for c in cells] == [
        ("in_double_quotes", 1),
        ("in_double_quotes", 2),
        ("paren_depth", 1),
    ]
    assert cells[1].values == {"none": None, "on": -1.5, "off": 1.5}
    with pytest.raises(ValueError, match="above 0"):
        sample_ranked_cells(quote_writer(), VOCAB, RANKING, value=0.0)


def test_the_page_shows_each_sample_with_the_signal_highlighted() -> None:
    cells = sample_ranked_cells(quote_writer(), VOCAB, RANKING[:1], length=200, seed=3)
    rows = clamped_sample_rows("lstm-1L-planted", cells, code=False)
    settings = {"length": 200, "temperature": 1.0, "seed": 3, "value": 2.0}
    page = render_clamped_samples("lstm-1L-planted", cells, rows, settings, code=False)
    assert page.count('class="text sample"') == 3
    assert "unclamped" in page and "held on (+2)" in page and "held off (-2)" in page
    highlighted = page.split("<h2>", 1)[1].count('<span class="on')  # after the legend
    inside = sum(round(inside_quotes(text) * 200) for text in cells[0].texts.values())
    assert highlighted == inside > 0
    assert "&quot;" in page  # the sampled quotes, escaped
