"""A synthetic results directory with a planted unit, for the explorer's tests and benchmark.

Prose of random words with double-quoted phrases; in every model, unit ``PLANTED`` of the
last state of layer 0 is ``+PLANTED_VALUE`` exactly where ``visrnn.inside.signals`` says the text is
inside double quotes and ``-PLANTED_VALUE`` elsewhere; every other value is small noise. A
tool that finds the planted unit from one quoted span, and the other quoted spans from it,
works; one that does not, does not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from visrnn.common.files import read_json
from visrnn.explorer.store import TOP_K, Track, char_classes, write_model_arrays, write_text_store
from visrnn.inside.signals import BINARY_SIGNALS, structural_signals

PLANTED = 17
PLANTED_VALUE = 0.9
NOISE = 0.2
WORDS = ("the", "prince", "said", "and", "was", "of", "in", "war", "peace", "she", "to", "him")
SYMBOLS = tuple(range(9, 127))


def synthetic_text(positions: int, seed: int = 0) -> bytes:
    """Lines of random words, about one in six phrases a "double-quoted" one."""
    rng = np.random.default_rng(seed)
    out = bytearray()
    line = 0
    while len(out) < positions:
        words = " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), rng.integers(2, 6)))
        phrase = f'"{words}," ' if rng.random() < 1 / 6 else f"{words} "
        out += phrase.encode()
        line += len(phrase)
        if line > 70:
            out += b"\r\n"
            line = 0
    return bytes(out[:positions])


def write_synthetic_results(
    root: str | os.PathLike[str],
    positions: int,
    units: int,
    models: Sequence[tuple[str, str, Sequence[str]]] = (
        ("lstm-1L-syn", "lstm", ("c", "h")),
        ("gru-1L-syn", "gru", ("r", "z", "n", "h")),
    ),
    dataset: str = "syn",
    seed: int = 0,
) -> Path:
    """Write ``root/{dataset}/explorer/`` for ``models`` (id, type, states of its one layer).

    Values are generated in chunks straight into the memory-mapped outputs, so a dump of a
    million positions by 512 units needs no more memory than a chunk.
    """
    root = Path(root)
    explorer = root / dataset / "explorer"
    text = synthetic_text(positions, seed)
    signals = structural_signals(text, code=False)
    quotes = signals["in_double_quotes"].astype(bool)
    rng = np.random.default_rng(seed)
    tracks = {
        Track(name, name in BINARY_SIGNALS, f"structural signal {name}"): values
        for name, values in signals.items()
    }
    tracks[Track("char_class", False, "character class")] = char_classes(
        np.frombuffer(text, dtype=np.uint8)
    )
    tracks[Track("ngram_loss", False, "synthetic reference loss")] = rng.exponential(
        2.0, positions
    ).astype(np.float32)
    symbols = list(SYMBOLS)
    write_text_store(explorer / "text", dataset, text, symbols, tracks)
    for model_id, model_type, states in models:
        values = {}
        scratch = explorer / f".{model_id}.scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        for state in states:
            array = np.lib.format.open_memmap(
                scratch / f"{state}.npy", mode="w+", dtype=np.float16, shape=(units, positions)
            )
            step = max(1, 2**24 // units)
            for start in range(0, positions, step):
                stop = min(positions, start + step)
                noise = rng.standard_normal((units, stop - start), dtype=np.float32) * NOISE
                array[:, start:stop] = np.clip(noise, -0.5, 0.5)
            if state == states[-1]:
                array[PLANTED] = np.where(quotes, PLANTED_VALUE, -PLANTED_VALUE)
            array.flush()
            values[0, state] = array
        ids = rng.integers(0, len(symbols), (positions, TOP_K)).astype(np.uint16)
        p = np.sort(rng.dirichlet(np.ones(TOP_K * 4), positions)[:, :TOP_K], axis=1)[:, ::-1]
        write_model_arrays(
            explorer / "models" / model_id,
            model_id,
            model_type,
            values,
            ids,
            p,
            rng.random(positions).astype(np.float32),
        )
        for path in scratch.iterdir():
            path.unlink()
        scratch.rmdir()
    return root


def write_checkpoint_model(
    root: str | os.PathLike[str],
    model_id: str = "lstm-2L-tiny",
    hidden: int = 16,
    dataset: str = "syn",
    seed: int = 0,
) -> Path:
    """A grid-shaped model with random weights over ``write_synthetic_results``'s text: its
    checkpoint under ``root/{dataset}/checkpoints/{model_id}/best.pt`` and its explorer store,
    dumped by the activation code and recording the checkpoint, as the pipeline writes one
    (the live text's tests and benchmark). Returns the store's directory."""
    import torch

    from visrnn.data.splits import Vocab
    from visrnn.inside.activations import iter_activations
    from visrnn.models.checkpoints import save_checkpoint
    from visrnn.models.grid import ModelSpec
    from visrnn.models.recurrent import CharRNN, ModelConfig

    root = Path(root)
    explorer = root / dataset / "explorer"
    text_store = read_json(explorer / "text" / "text.json")
    vocab = Vocab(tuple(text_store["symbols"]))
    ids = vocab.encode(np.load(explorer / "text" / "text.npy").tobytes())
    spec = ModelSpec.parse(model_id)
    torch.manual_seed(seed)
    model = CharRNN(ModelConfig(spec.model_type, vocab.size, hidden, spec.num_layers))
    model.init_uniform(0.5)
    model.eval()
    checkpoint = root / dataset / "checkpoints" / model_id / "best.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(checkpoint, model, model_id=model_id, vocab_sha256=vocab.sha256)
    chunks = list(iter_activations(model, ids))
    values = {
        (layer, name): np.concatenate([c[layer][name][0].numpy() for c in chunks]).T
        for layer in range(spec.num_layers)
        for name in chunks[0][layer]
    }
    with torch.no_grad():
        logits = model.decoder(torch.from_numpy(values[spec.num_layers - 1, "h"].T.copy()))
        probs = logits.softmax(-1)
        top_p, top_ids = probs.topk(TOP_K)
        p_target = probs[torch.arange(len(ids) - 1), torch.from_numpy(ids[1:].astype(np.int64))]
    store = explorer / "models" / model_id
    write_model_arrays(
        store,
        model_id,
        spec.model_type,
        values,
        top_ids.numpy(),
        top_p.numpy(),
        p_target.numpy(),
        extra={
            "vocab_sha256": vocab.sha256,
            "checkpoint": os.path.relpath(checkpoint, store),
        },
    )
    return store
