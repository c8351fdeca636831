"""``visrnn sample``: text written by a checkpoint, as char-rnn's ``sample.lua``, optionally
with units clamped (``visrnn.inside.sampling``).

The checkpoint is any grid model's ``best.pt`` of a results directory (a selected model's or
one training run's); its model id and its dataset's vocabulary are found from where it lies,
or given.
"""

from __future__ import annotations

from pathlib import Path

from visrnn import plan
from visrnn.models.grid import ModelSpec


class SampleError(ValueError):
    """What ``visrnn sample`` cannot do, said in one line."""


def checkpoint_model_id(checkpoint: Path) -> str:
    """The grid model id a checkpoint lies under: ``results/{ds}/models/{model}/best.pt`` or
    ``results/{ds}/runs/{model}/{variant}/best.pt``."""
    for folder in (checkpoint.parent.name, checkpoint.parent.parent.name):
        try:
            return ModelSpec.parse(folder).model_id
        except ValueError:
            continue
    raise SampleError(
        f"{checkpoint} lies under no grid model's folder (like models/lstm-2L-130k/best.pt); "
        "give its model id with --model (sample reads the recurrent grid models)"
    )


def dataset_vocab(checkpoint: Path) -> Path:
    """The vocabulary of the dataset a checkpoint lies in: ``results/{ds}/data/vocab.json``
    in the first folder above it that has one."""
    for folder in checkpoint.resolve().parents:
        candidate = Path(plan.data_file(folder.name, "vocab.json", root=folder.parent))
        if candidate.is_file():
            return candidate
    raise SampleError(
        f"no data/vocab.json in any folder above {checkpoint}; give the vocabulary of its "
        "dataset with --vocab"
    )


def sample_text(
    checkpoint: Path,
    *,
    prime: bytes,
    length: int,
    temperature: float,
    seed: int,
    clamps: list[str],
    model_id: str | None = None,
    vocab_path: Path | None = None,
) -> bytes:
    """What ``visrnn sample`` prints: the prime, then ``length`` sampled characters."""
    from visrnn.data.splits import Vocab
    from visrnn.inside.interventions import Clamp
    from visrnn.inside.sampling import sample
    from visrnn.models.checkpoints import load_checkpoint

    if not checkpoint.is_file():
        raise SampleError(f"no checkpoint {checkpoint}")
    held = [Clamp.parse(spec) for spec in clamps]
    model_id = model_id or checkpoint_model_id(checkpoint)
    vocab = Vocab.load(vocab_path or dataset_vocab(checkpoint))
    model, _ = load_checkpoint(checkpoint, model_id=model_id, vocab_sha256=vocab.sha256)
    text = sample(model, vocab, prime, length, temperature, seed, clamps=held)
    return prime + text
