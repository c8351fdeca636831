"""Sampling text from a checkpoint, as char-rnn's ``sample.lua`` does, optionally with units
clamped (``visrnn.inside.interventions``): what a cell makes the model write.

The model reads the prime text (one character at a time, from the zero state), then writes
``length`` characters, each drawn from softmax(logits / temperature) and read back in.
Temperature 0 takes the most likely character instead (char-rnn's ``-sample 0``). Draws come
from a ``torch.Generator`` seeded with ``seed``, so a (checkpoint, prime, temperature, length,
seed, clamps) gives the same text on every run on the same device. With no prime, the first
character is drawn uniformly from the vocabulary, as char-rnn does.
"""

from __future__ import annotations

import torch

from visrnn.data.splits import Vocab, symbol_name
from visrnn.inside.interventions import ClampedModel, Intervention
from visrnn.models.recurrent import CharRNN


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
