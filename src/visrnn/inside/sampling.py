"""Sampling text from a checkpoint, as char-rnn's ``sample.lua`` does, optionally with units
clamped (``visrnn.inside.interventions``): what a cell makes the model write.

The model reads the prime text (one character at a time, from the zero state), then writes
``length`` characters, each drawn from softmax(logits / temperature) and read back in.
Temperature 0 takes the most likely character instead (char-rnn's ``-sample 0``). Draws come
from a ``torch.Generator`` seeded with ``seed``, so a (checkpoint, prime, temperature, length,
seed, clamps) gives the same text on every run on the same device. With no prime, the first
character is drawn uniformly from the vocabulary, as char-rnn does.

``sample_ranked_cells`` is what the pipeline's ``clamped_samples`` rule writes with: for the
best-ranked cells of each structural signal, the text written with the cell free, held on
and held off (same seed), and the signal measured on each (``clamped_sample_rows``: the
fraction of sampled characters inside quotes, clamped against unclamped, and so on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from visrnn.data.splits import Vocab, symbol_name
from visrnn.inside.interventions import Clamp, ClampedModel, Intervention
from visrnn.inside.signals import signal_on, structural_signals
from visrnn.models.recurrent import CharRNN
from visrnn.pages import display_char, render_page


def check_prime(vocab: Vocab, prime: bytes) -> None:
    """Refuse a prime with bytes the model never saw in training (they would all read as
    the one reserved id), naming them."""
    known = set(vocab.symbols)
    unknown = sorted({byte for byte in prime if byte not in known})
    if unknown:
        names = " ".join(symbol_name(byte) for byte in unknown)
        raise ValueError(
            f"the prime text has {len(unknown)} character(s) outside the model's vocabulary: "
            f"{names}; remove or replace them"
        )


@torch.no_grad()
def sample(
    model: CharRNN,
    vocab: Vocab,
    prime: bytes = b"",
    length: int = 2000,
    temperature: float = 1.0,
    seed: int = 123,
    clamps: Intervention = (),
) -> bytes:
    """``length`` characters written by ``model`` after ``prime``, units of ``clamps`` held
    from the first character read on (the returned text excludes the prime)."""
    if length < 0:
        raise ValueError(f"length must be 0 or more, got {length}")
    if not temperature >= 0:
        raise ValueError(f"temperature must be 0 (argmax) or more, got {temperature}")
    if model.config.vocab_size != vocab.size:
        raise ValueError(
            f"the model reads {model.config.vocab_size} ids but the vocabulary has "
            f"{vocab.size}; give the vocabulary of the model's dataset"
        )
    check_prime(vocab, prime)
    device = model.decoder.weight.device
    generator = torch.Generator(device=device).manual_seed(seed)
    runner = ClampedModel(model, [clamps])
    state = runner.zero_state()
    ids = torch.as_tensor(vocab.encode(prime).astype("int64"), device=device)
    if len(ids) == 0:
        # char-rnn's sample.lua without a prime: a uniform first character (never the
        # reserved id of unseen bytes, which decodes to nothing real).
        ids = torch.randint(len(vocab.symbols), (1,), generator=generator, device=device)
        written = [int(ids[0])]
    else:
        written = []
    logits, state = runner.step(ids[None], state)
    while len(written) < length:
        last = logits[0, -1].float()
        if temperature == 0:
            choice = int(last.argmax())
        else:
            probs = torch.softmax(last / temperature, dim=-1)
            choice = int(torch.multinomial(probs, 1, generator=generator))
        written.append(choice)
        logits, state = runner.step(torch.tensor([[choice]], device=device), state)
    return vocab.decode(written[:length])


# --- what a cell writes: each signal's best cells clamped, the signal measured on the samples


#: The three samples of a cell: unclamped, held toward its signal's side, held against it.
CLAMP_KINDS = ("none", "on", "off")
#: Columns of ``tables/clamped_samples.csv``.
CLAMPED_SAMPLE_COLUMNS = (
    "model",
    "signal",
    "rank",
    "layer",
    "state",
    "unit",
    "correlation",
    "clamp",
    "value",
    "characters",
    "fraction_on",
    "mean_signal",
)


@dataclass(frozen=True)
class CellSamples:
    """One ranked cell of a signal (a ``cell_ranking.csv`` row) and the text the model writes
    with it free (``none``), held at +value toward the signal's side (``on``: the sign of its
    correlation) and at the opposite value (``off``), all three with the same seed."""

    signal: str
    rank: int
    layer: int
    state: str
    unit: int
    correlation: float
    values: dict[str, float | None]  # clamp kind -> the value held (None: unclamped)
    texts: dict[str, bytes]  # clamp kind -> the sampled text


def sample_ranked_cells(
    model: CharRNN,
    vocab: Vocab,
    ranking: Sequence[Mapping[str, Any]],
    *,
    top: int = 1,
    length: int = 500,
    temperature: float = 1.0,
    seed: int = 123,
    value: float = 2.0,
) -> list[CellSamples]:
    """Samples of ``model`` with each of the ``top`` best-ranked cells of every signal of
    ``ranking`` (``cell_ranking.csv`` rows) held on and off, beside the unclamped sample (one
    text for all: the same seed and no clamp)."""
    if not value > 0:
        raise ValueError(
            f"the clamp value must be above 0 (held at +value and -value), got {value}"
        )
    free = sample(model, vocab, b"", length, temperature, seed)
    chosen = []
    for row in ranking:
        if row["rank"] > top:
            continue
        side = 1.0 if row["correlation"] >= 0 else -1.0
        held = {"none": None, "on": side * value, "off": -side * value}
        texts = {"none": free}
        for kind in ("on", "off"):
            clamp = Clamp(row["layer"], row["activation"], row["unit"], held[kind])
            texts[kind] = sample(model, vocab, b"", length, temperature, seed, clamps=[clamp])
        chosen.append(
            CellSamples(
                row["signal"],
                row["rank"],
                row["layer"],
                row["activation"],
                row["unit"],
                row["correlation"],
                held,
                texts,
            )
        )
    return chosen


def signal_measure(text: bytes, signal: str, code: bool) -> tuple[float, float]:
    """The fraction of ``text``'s characters at which ``signal`` is on (``signal_on``: inside
    quotes, at a bracket depth of 1 or more ...) and its mean value, computed from the text
    as written (``visrnn.inside.signals``, from the state at its first character)."""
    if not text:
        return float("nan"), float("nan")
    values = structural_signals(text, code=code)[signal]
    return float(signal_on(values).mean()), float(values.mean())


def clamped_sample_rows(
    model_id: str, cells: Sequence[CellSamples], code: bool
) -> list[dict[str, Any]]:
    """Rows of ``clamped_samples.csv``: per cell and clamp kind, the signal measured on the
    sample."""
    rows = []
    for cell in cells:
        for kind in CLAMP_KINDS:
            fraction, mean = signal_measure(cell.texts[kind], cell.signal, code)
            rows.append(
                {
                    "model": model_id,
                    "signal": cell.signal,
                    "rank": cell.rank,
                    "layer": cell.layer,
                    "state": cell.state,
                    "unit": cell.unit,
                    "correlation": cell.correlation,
                    "clamp": kind,
                    "value": cell.values[kind],
                    "characters": len(cell.texts[kind]),
                    "fraction_on": round(fraction, 5),
                    "mean_signal": round(mean, 5),
                }
            )
    return rows


def render_clamped_samples(
    model_id: str,
    cells: Sequence[CellSamples],
    rows: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    code: bool,
) -> str:
    """The page of ``cells``' samples: per cell, its three samples side by side, the
    characters at which its signal is on highlighted, with the measure of ``rows``."""
    measured = {(r["signal"], r["rank"], r["clamp"]): r for r in rows}
    sections = []
    for cell in cells:
        columns = []
        for kind in CLAMP_KINDS:
            text = cell.texts[kind]
            on = signal_on(structural_signals(text, code=code)[cell.signal]) if text else []
            chars = [(*display_char(text, i), bool(on[i])) for i in range(len(text))]
            columns.append(
                {"kind": kind, "row": measured[cell.signal, cell.rank, kind], "chars": chars}
            )
        sections.append({"cell": cell, "columns": columns})
    return render_page(
        "clamped_samples.html.j2",
        title=f"What {model_id}'s cells write: clamped samples",
        settings=settings,
        sections=sections,
    )
