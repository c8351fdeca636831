"""Interventions: run a checkpoint step by step with some units held at chosen values.

One mechanism serves the ablation (units silenced while the test split is rescored,
``visrnn.inside.ablation``) and clamped sampling (units held at a number while the model
writes, ``visrnn.inside.sampling``). A ``Clamp`` holds one unit of one layer's hidden state
``h`` or, in an LSTM, cell state ``c`` at a value after every step:

- ``c`` (LSTM): the cell state is set to the value right after c = f * c' + i * g, so the
  held value is what feeds the next step's cell update, and the step's output is
  h = o * tanh(held c): the unit's output gate still acts. Silencing c with zero therefore
  silences that unit's h as well (tanh 0 = 0).
- ``h`` (any type): the hidden state is set to the value after the step, so the held value
  is what the next step's gates and candidate read (W_hh h'), what the layer above reads
  and, in the last layer, what the decoder reads. An LSTM's cell state is left to run.

The initial state is the model's zero state; holds act from the first step's output on.

The arithmetic is the checkpoint's own: each step calls ``layer_gates`` and ``next_state``
of ``visrnn.models.gates``, the equations ``CharRNN.stepwise`` and the activation dumps use,
on the checkpoint's weights, in ``stepwise``'s order of operations. With no clamp, a batch of
one equals ``stepwise`` bit for bit and the fused kernels to float32 rounding (the fused
kernels sum in another order); in a batch of several interventions a row can differ from a
batch of one in the last bits, because the matrix product of a batch may be blocked
differently (tests/test_interventions.py holds all three).

Every intervention of a batch runs as one row of one step-by-step pass, so rescoring the
test split under twenty ablations costs about what one costs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from visrnn.inside.activations import iter_activations
from visrnn.models.gates import layer_gates, next_state
from visrnn.models.recurrent import CharRNN

#: The states a clamp can hold, by model type.
HELD_STATES: dict[str, tuple[str, ...]] = {"rnn": ("h",), "lstm": ("c", "h"), "gru": ("h",)}
#: How a unit is silenced: set to zero, or to its mean over the test split.
SILENCE_MODES = ("zero", "mean")
#: Float32 bytes of hidden states a scoring chunk may hold per layer (bounds its memory).
_CHUNK_BYTES = 32 << 20

_CLAMP_SPEC = re.compile(r"^(?P<layer>[0-9]+):(?P<state>[a-z]+):(?P<unit>[0-9]+)=(?P<value>.+)$")


@dataclass(frozen=True)
class Clamp:
    """Unit ``unit`` of layer ``layer``'s state ``state`` (``h``, or an LSTM's ``c``) held
    at ``value`` after every step."""

    layer: int
    state: str
    unit: int
    value: float

    @classmethod
    def parse(cls, spec: str) -> Clamp:
        """A clamp from its command-line spelling ``LAYER:STATE:UNIT=VALUE`` (``0:c:17=1``)."""
        match = _CLAMP_SPEC.match(spec.strip())
        value = None
        if match:
            try:
                value = float(match["value"])
            except ValueError:
                value = None
        if match is None or value is None or not np.isfinite(value):
            raise ValueError(
                f"bad clamp {spec!r}: expected LAYER:STATE:UNIT=VALUE with a finite number, "
                "e.g. 0:c:17=1.5 (layer 0, cell state, unit 17, held at 1.5)"
            )
        return cls(int(match["layer"]), match["state"], int(match["unit"]), value)

    def __str__(self) -> str:
        return f"{self.layer}:{self.state}:{self.unit}={self.value:g}"


#: One intervention: the clamps applied together (none: the model as it is).
Intervention = Sequence[Clamp]


def check_clamps(model: CharRNN, clamps: Intervention) -> None:
    """Raise ``ValueError`` naming the first clamp that does not fit ``model``: a layer, a
    state or a unit it does not have, or one unit held twice."""
    cfg = model.config
    states = HELD_STATES[cfg.model_type]
    seen: set[tuple[int, str, int]] = set()
    for clamp in clamps:
        if not 0 <= clamp.layer < cfg.num_layers:
            raise ValueError(
                f"clamp {clamp}: layer {clamp.layer} out of range; the model has "
                f"{cfg.num_layers} layer(s), 0 to {cfg.num_layers - 1}"
            )
        if clamp.state not in states:
            raise ValueError(
                f"clamp {clamp}: a {cfg.model_type} has no state {clamp.state!r} to hold; "
                f"expected one of {states}"
            )
        if not 0 <= clamp.unit < cfg.hidden_size:
            raise ValueError(
                f"clamp {clamp}: unit {clamp.unit} out of range; layers have "
                f"{cfg.hidden_size} units, 0 to {cfg.hidden_size - 1}"
            )
        key = (clamp.layer, clamp.state, clamp.unit)
        if key in seen:
            raise ValueError(f"clamp {clamp}: unit held twice in one intervention")
        seen.add(key)


@torch.no_grad()
def unit_means(
    model: CharRNN, ids: np.ndarray, states: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], np.ndarray]:
    """The mean of every unit of each (layer, state) over ``ids`` (the test split), as the
    dumps compute the states (``iter_activations``): what ``mean`` silencing holds a unit at.
    Computed once per model and reused for every intervention."""
    wanted = sorted({state for _, state in states})
    sums = {key: np.zeros(model.config.hidden_size) for key in states}
    for chunk in iter_activations(model, ids, names=wanted):
        for layer, state in states:
            sums[layer, state] += chunk[layer][state][0].double().sum(dim=0).cpu().numpy()
    return {key: total / len(ids) for key, total in sums.items()}


def silence(
    layer: int,
    state: str,
    units: Sequence[int],
    mode: str,
    means: Mapping[tuple[int, str], np.ndarray] | None = None,
) -> list[Clamp]:
    """Clamps that silence ``units`` of (layer, state): each held at zero (``zero``) or at its
    mean over the test split (``mean``, from ``unit_means``)."""
    if mode == "zero":
        return [Clamp(layer, state, int(unit), 0.0) for unit in units]
    if mode == "mean":
        if means is None or (layer, state) not in means:
            raise ValueError(
                f"mean silencing of layer {layer} {state} needs its unit means (unit_means)"
            )
        return [Clamp(layer, state, int(u), float(means[layer, state][u])) for u in units]
    raise ValueError(f"unknown silencing {mode!r}; expected one of {SILENCE_MODES}")


class ClampedModel:
    """``model`` run step by step in a batch of ``interventions``, one row each.

    ``step`` advances every row through some characters, carrying the state; the held units
    of each row are set after every step (see the module docstring).
    """

    def __init__(self, model: CharRNN, interventions: Sequence[Intervention]) -> None:
        if not interventions:
            raise ValueError("no interventions: pass at least one (an empty one is the model)")
        for clamps in interventions:
            check_clamps(model, clamps)
        self.model = model.eval()
        cfg = model.config
        self.batch = len(interventions)
        weight = model.decoder.weight
        # (layer, state) -> (which units each row holds (B, H), and at what values (B, H)).
        self.held: dict[tuple[int, str], tuple[Tensor, Tensor]] = {}
        for row, clamps in enumerate(interventions):
            for clamp in clamps:
                key = (clamp.layer, clamp.state)
                if key not in self.held:
                    shape = (self.batch, cfg.hidden_size)
                    self.held[key] = (
                        torch.zeros(shape, dtype=torch.bool, device=weight.device),
                        torch.zeros(shape, dtype=weight.dtype, device=weight.device),
                    )
                mask, values = self.held[key]
                mask[row, clamp.unit] = True
                values[row, clamp.unit] = clamp.value

    def zero_state(self) -> list[tuple[Tensor, Tensor | None]]:
        """Per layer (h, c) of every row, the model's zero state (c None but for an LSTM)."""
        cfg = self.model.config
        weight = self.model.decoder.weight
        zero = torch.zeros(self.batch, cfg.hidden_size, dtype=weight.dtype, device=weight.device)
        return [(zero, zero if cfg.model_type == "lstm" else None)] * cfg.num_layers

    @torch.no_grad()
    def step(
        self, ids: Tensor, state: list[tuple[Tensor, Tensor | None]]
    ) -> tuple[Tensor, list[tuple[Tensor, Tensor | None]]]:
        """Logits (B, T, K) after each of ``ids`` (B, T), or (1, T) read by every row, and the
        state after the last step."""
        cfg = self.model.config
        rnn = self.model.rnn
        layer_input = F.one_hot(ids.long(), cfg.vocab_size).to(self.model.decoder.weight.dtype)
        new_state = []
        for layer in range(cfg.num_layers):
            w_ih = getattr(rnn, f"weight_ih_l{layer}")
            w_hh = getattr(rnn, f"weight_hh_l{layer}")
            b_ih = getattr(rnn, f"bias_ih_l{layer}")
            b_hh = getattr(rnn, f"bias_hh_l{layer}")
            projected = layer_input @ w_ih.T + b_ih  # (B or 1, T, G*H), all steps at once
            projected = projected.expand(self.batch, -1, -1)
            h, c = state[layer]
            hold_h, hold_c = self.held.get((layer, "h")), self.held.get((layer, "c"))
            outputs = projected.new_empty(self.batch, projected.shape[1], cfg.hidden_size)
            for t in range(projected.shape[1]):
                recurrent = h @ w_hh.T + b_hh
                gates = layer_gates(
                    cfg.model_type, cfg.gru_variant, projected[:, t], recurrent, h, w_hh, b_hh
                )
                h, c = next_state(cfg.model_type, projected[:, t], recurrent, gates, h, c)
                if hold_c is not None:
                    c = torch.where(hold_c[0], hold_c[1], c)
                    h = gates["o"] * torch.tanh(c)  # next_state's output, from the held cell
                if hold_h is not None:
                    h = torch.where(hold_h[0], hold_h[1], h)
                outputs[:, t] = h
            new_state.append((h, c))
            layer_input = outputs  # (B, T, H)
        return self.model.decoder(layer_input), new_state


def chunk_length(model: CharRNN, batch: int) -> int:
    """Steps per scoring chunk: a layer's outputs of a chunk stay within ``_CHUNK_BYTES``."""
    return max(64, _CHUNK_BYTES // (4 * batch * max(model.config.hidden_size, 1)))


@torch.no_grad()
def clamped_log_probs(
    model: CharRNN, ids: np.ndarray, interventions: Sequence[Intervention], chunk: int | None = None
) -> Iterator[Tensor]:
    """Log-probabilities (B, chunk, K) of the next character at positions 0..N-2 under each
    intervention, state carried from the zero state through ``ids`` (the evaluation's
    convention, ``visrnn.scoring.evaluation.log_prob_chunks``)."""
    runner = ClampedModel(model, interventions)
    chunk = chunk or chunk_length(model, runner.batch)
    device = model.decoder.weight.device
    inputs = torch.from_numpy(np.asarray(ids[:-1], dtype=np.int64)).unsqueeze(0)
    state = runner.zero_state()
    for start in range(0, inputs.shape[1], chunk):
        logits, state = runner.step(inputs[:, start : start + chunk].to(device), state)
        yield torch.log_softmax(logits.float(), dim=-1)


def score_interventions(
    model: CharRNN,
    ids: np.ndarray,
    interventions: Sequence[Intervention],
    chunk: int | None = None,
    timeout: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """p(target) and argmax id (B, N - 1) of the test split ``ids`` under each intervention:
    what an eval Parquet holds, one row per intervention. With ``timeout`` (seconds), a
    ``TimeoutError`` after the chunk during which it passed (the explorer's bound)."""
    targets = torch.from_numpy(np.asarray(ids[1:], dtype=np.int64))
    p_target = np.empty((len(interventions), len(targets)), dtype=np.float32)
    argmax = np.empty((len(interventions), len(targets)), dtype=np.int64)
    start, began = 0, time.perf_counter()
    for log_probs in clamped_log_probs(model, ids, interventions, chunk):
        stop = start + log_probs.shape[1]
        index = targets[start:stop].to(log_probs.device).expand(len(interventions), -1)
        p_target[:, start:stop] = log_probs.gather(2, index[..., None])[..., 0].exp().cpu()
        argmax[:, start:stop] = log_probs.argmax(dim=-1).cpu()
        start = stop
        late = timeout is not None and time.perf_counter() - began > timeout
        if late and start < len(targets):
            raise TimeoutError(f"scoring took longer than {timeout:g} s; stopped")
    return p_target, argmax
