"""The n-gram baseline: KenLM modified Kneser-Ney models over byte tokens (paper Table 2).

"n-gram" means an (n+1)-gram: n characters of context. Each vocabulary id becomes one
whitespace-free KenLM token (``Vocab.name``), and the whole training split is one sentence,
so context crosses line ends exactly as it does for the recurrent models. ``lmplz`` streams
its ARPA text straight into ``build_binary``: a 20-gram ARPA of War and Peace is ~2 GB that
is never needed on disk. Scoring walks the test split with the ``kenlm`` module's state API,
one token per character, and converts log10 probabilities to natural ones.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import repeat
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING

import numpy as np

from visrnn.common.files import atomic_path
from visrnn.data.splits import Vocab

if TYPE_CHECKING:
    import kenlm

logger = logging.getLogger(__name__)

#: Tokens KenLM gives a meaning of its own; ``<unk>`` is shared on purpose (the reserved id).
KENLM_SENTENCE_MARKS = ("<s>", "</s>")
INSTALL_HINT = (
    "run `scripts/install_kenlm.sh .venv` (or `make setup`), which builds KenLM with "
    "KENLM_MAX_ORDER=21 (Boost comes from apt)"
)
_LN10 = math.log(10.0)
_WRITE_CHUNK = 1 << 20  # training tokens per write to lmplz
_SCORE_CHUNK = 1 << 16  # test positions per scoring chunk (one kenlm.State each)


class KenLMError(RuntimeError):
    """A KenLM program or model failed."""


class KenLMNotInstalledError(KenLMError):
    """lmplz, build_binary or the ``kenlm`` Python module is missing."""


class KenLMOrderError(KenLMError):
    """KenLM was compiled with a KENLM_MAX_ORDER below the order asked for."""


def token_names(vocab: Vocab) -> list[str]:
    """KenLM token of every id, indexed by id; checked to be distinct and whitespace-free."""
    names = [vocab.name(token_id) for token_id in range(vocab.size)]
    bad = [n for n in names if not n or n in KENLM_SENTENCE_MARKS or any(c.isspace() for c in n)]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"vocabulary names are not usable as distinct KenLM tokens: {bad}")
    return names


def token_ids(vocab: Vocab) -> dict[str, int]:
    """The inverse of ``token_names``: KenLM token -> vocabulary id."""
    return {name: token_id for token_id, name in enumerate(token_names(vocab))}


def write_training_text(train_ids: np.ndarray, vocab: Vocab, stream: IO[bytes]) -> None:
    """Write ``train_ids`` as one line of space-separated tokens, a chunk at a time."""
    ids = np.asarray(train_ids)
    if ids.size == 0:
        raise ValueError("the training split is empty; there is nothing to estimate from")
    if int(ids.max()) >= vocab.unk_id:
        raise ValueError(
            f"training ids include {int(ids.max())}, but the vocabulary knows only ids "
            f"0..{vocab.unk_id - 1}: the vocabulary was not built from this training split"
        )
    spaced = [name.encode("ascii") + b" " for name in token_names(vocab)]
    for start in range(0, len(ids), _WRITE_CHUNK):
        chunk = ids[start : start + _WRITE_CHUNK].tolist()
        stream.write(b"".join(map(spaced.__getitem__, chunk)))
    stream.write(b"\n")


def find_program(name: str) -> Path:
    """A KenLM program next to the running Python (the venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    if found is None:
        raise KenLMNotInstalledError(
            f"KenLM's `{name}` was found neither in {beside.parent} nor on PATH; {INSTALL_HINT}"
        )
    return Path(found)


def _kenlm() -> ModuleType:
    try:
        import kenlm
    except ImportError as error:
        raise KenLMNotInstalledError(
            f"the `kenlm` Python module is not installed; {INSTALL_HINT}"
        ) from error
    return kenlm


def kenlm_state() -> kenlm.State:
    return _kenlm().State()


def _minimal_arpa(order: int) -> str:
    """The smallest valid ARPA model of ``order``: one chain of <s> tokens."""
    lines = ["\\data\\", "ngram 1=3", *(f"ngram {k}=1" for k in range(2, order + 1)), ""]
    lines += ["\\1-grams:", "-1\t<unk>\t0", "-99\t<s>\t0", "-0.5\t</s>\t0", ""]
    for k in range(2, order + 1):
        backoff = "\t0" if k < order else ""
        lines += [f"\\{k}-grams:", "-0.3\t" + " ".join(["<s>"] * k) + backoff, ""]
    return "\n".join([*lines, "\\end\\", ""])


def _raise_if_order_error(error: Exception, what: str) -> None:
    if "compiled to support up to" in str(error):
        raise KenLMOrderError(
            f"{what}: the `kenlm` Python module was compiled with a smaller KENLM_MAX_ORDER "
            f"({error}); {INSTALL_HINT}"
        ) from error


def require_kenlm_order(order: int) -> None:
    """Fail fast, before a long build, if the ``kenlm`` module cannot load a model of ``order``.

    Loads a minimal ARPA model of that order (kenlm notes on stderr that binaries load faster).
    """
    kenlm = _kenlm()
    config = kenlm.Config()
    config.show_progress = False
    with tempfile.TemporaryDirectory(prefix="kenlm-order-") as work:
        arpa = Path(work) / "probe.arpa"
        arpa.write_text(_minimal_arpa(order))
        try:
            kenlm.Model(str(arpa), config)
        except OSError as error:
            _raise_if_order_error(error, f"a model of order {order}")
            raise KenLMError(
                f"kenlm cannot load a probe model of order {order}: {error}"
            ) from error


def _stderr_tail(path: Path, lines: int = 15) -> str:
    text = path.read_bytes().decode("utf-8", "replace")
    kept = [
        line for line in text.splitlines() if line.strip() and not set(line) <= set("*-0123456789")
    ]
    return "\n".join(kept[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


def build_ngram(
    train_ids: np.ndarray,
    vocab: Vocab,
    n: int,
    binary_path: str | os.PathLike[str],
    *,
    memory: str = "1G",
    tmp_dir: str | os.PathLike[str] | None = None,
) -> None:
    """Estimate the unpruned modified-Kneser-Ney (n+1)-gram and write its binary trie.

    ``memory`` (GNU sort syntax, e.g. ``1G``) is the sorting memory of lmplz and of
    build_binary each; they run side by side. Their temporary files go under ``tmp_dir``.
    """
    if n < 1:
        raise ValueError(f"n-gram context n must be at least 1, got {n}")
    order = n + 1
    lmplz, build_binary = find_program("lmplz"), find_program("build_binary")
    require_kenlm_order(order)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="kenlm-", dir=tmp_dir) as work,
        atomic_path(binary_path) as tmp,
    ):
        lmplz_log, binary_log = Path(work, "lmplz.log"), Path(work, "build_binary.log")
        lmplz_args = ["-o", str(order), "--discount_fallback", "--vocab_estimate", str(vocab.size)]
        sort_args = ["-S", memory, "-T", os.path.join(work, "")]  # both sort on disk
        binary_args = ["trie", "/dev/stdin", str(tmp)]  # build_binary reads the pipe
        with lmplz_log.open("wb") as lmplz_err, binary_log.open("wb") as binary_err:
            estimate = subprocess.Popen(
                [str(lmplz), *lmplz_args, *sort_args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=lmplz_err,
            )
            binarize = subprocess.Popen(
                [str(build_binary), *sort_args, *binary_args],
                stdin=estimate.stdout,
                stdout=subprocess.DEVNULL,
                stderr=binary_err,
            )
            estimate.stdout.close()  # build_binary owns the pipe now; lmplz sees it close
            try:
                try:
                    with estimate.stdin:
                        write_training_text(train_ids, vocab, estimate.stdin)
                except BrokenPipeError:
                    pass  # lmplz stopped reading; its exit status and log say why
                logger.info(
                    "streamed %d training tokens to lmplz (order %d) in %.1f s",
                    len(train_ids),
                    order,
                    time.perf_counter() - started,
                )
                estimate.wait()
                binarize.wait()
            finally:
                _stop(estimate)
                _stop(binarize)
        for process, name, log in (
            (estimate, "lmplz", lmplz_log),
            (binarize, "build_binary", binary_log),
        ):
            if process.returncode != 0:
                raise KenLMError(
                    f"{name} failed with exit status {process.returncode} while building "
                    f"{binary_path} (order {order}, memory {memory}):\n{_stderr_tail(log)}"
                )
    logger.info(
        "built %d-gram %s (%.1f MB) in %.1f s",
        order,
        binary_path,
        Path(binary_path).stat().st_size / 1e6,
        time.perf_counter() - started,
    )


def load_model(binary_path: str | os.PathLike[str], vocab: Vocab) -> kenlm.Model:
    """Open a KenLM model, checking that it knows every token of ``vocab``."""
    kenlm = _kenlm()
    path = Path(binary_path)
    if not path.is_file():
        raise FileNotFoundError(f"n-gram model {path} does not exist; build it with build_ngram")
    config = kenlm.Config()
    config.show_progress = False
    try:
        model = kenlm.Model(str(path), config)
    except OSError as error:
        _raise_if_order_error(error, str(path))
        raise KenLMError(f"kenlm cannot load n-gram model {path}: {error}") from error
    # KenLM's own <unk> is always there, though ``in`` says otherwise.
    missing = [name for name in token_names(vocab)[: vocab.unk_id] if name not in model]
    if missing:
        raise ValueError(
            f"n-gram model {path} lacks the tokens {missing}: it was built with another "
            "vocabulary; rebuild it from this dataset's training split"
        )
    return model


def context_state(model: kenlm.Model, context_ids: np.ndarray, vocab: Vocab) -> kenlm.State:
    """KenLM state after the beginning of sentence followed by ``context_ids``."""
    names = token_names(vocab)
    state, scratch = kenlm_state(), kenlm_state()
    model.BeginSentenceWrite(state)
    for token_id in np.asarray(context_ids).tolist():
        model.BaseScore(state, names[token_id], scratch)
        state, scratch = scratch, state
    return state


def next_distribution(model: kenlm.Model, state: kenlm.State, vocab: Vocab) -> np.ndarray:
    """p(id | state) for every vocabulary id; with KenLM's p(</s>) it sums to 1."""
    names = token_names(vocab)
    log10 = list(map(model.BaseScore, repeat(state, len(names)), names, repeat(kenlm_state())))
    return np.exp(np.array(log10) * _LN10)


def _walk(
    model: kenlm.Model, test_ids: np.ndarray, vocab: Vocab
) -> Iterator[tuple[int, list[kenlm.State], np.ndarray]]:
    """Walk the test split as one sentence from <s>, scoring targets a chunk at a time.

    As for the recurrent models (``visrnn.scoring.evaluation``), target t is test character t + 1,
    read after characters 0..t. Yields ``(start, states, log10)``: ``log10[j]`` is log10
    p(target start + j) and ``states[j]`` the context it was scored in. The State objects
    are reused from chunk to chunk.
    """
    ids = np.asarray(test_ids)
    if len(ids) < 2:
        raise ValueError(f"the test split has {len(ids)} characters; scoring needs at least 2")
    if int(ids.max()) >= vocab.size:
        raise ValueError(f"test ids reach {int(ids.max())}, beyond the vocabulary's {vocab.size}")
    names = token_names(vocab)
    targets = [names[token_id] for token_id in ids[1:].tolist()]
    states = [kenlm_state() for _ in range(min(_SCORE_CHUNK, len(targets)) + 1)]
    scratch = kenlm_state()
    model.BeginSentenceWrite(scratch)
    model.BaseScore(scratch, names[int(ids[0])], states[0])
    score = model.BaseScore
    for start in range(0, len(targets), _SCORE_CHUNK):
        chunk = targets[start : start + _SCORE_CHUNK]
        k = len(chunk)
        log10 = np.fromiter(map(score, states[:k], chunk, states[1 : k + 1]), np.float64, k)
        yield start, states, log10
        states[0], states[k] = states[k], states[0]  # the next chunk's context


def target_probabilities(
    binary_path: str | os.PathLike[str], test_ids: np.ndarray, vocab: Vocab
) -> np.ndarray:
    """p(target) (float32) at each of the N - 1 test positions, without the argmax."""
    model = load_model(binary_path, vocab)
    chunks = [np.exp(log10 * _LN10) for _, _, log10 in _walk(model, test_ids, vocab)]
    return np.concatenate(chunks).astype(np.float32)


def score_ngram(
    binary_path: str | os.PathLike[str], test_ids: np.ndarray, vocab: Vocab
) -> tuple[np.ndarray, np.ndarray]:
    """p(target) (float32) and argmax id (int64) at each of the N - 1 test positions."""
    model = load_model(binary_path, vocab)
    names = token_names(vocab)
    targets = np.asarray(test_ids)[1:].astype(np.int64)
    p_target = np.empty(len(targets), dtype=np.float32)
    argmax = np.empty(len(targets), dtype=np.int64)
    score, scratch, vocab_size = model.BaseScore, kenlm_state(), len(names)
    started = time.perf_counter()
    scans = 0
    for start, states, log10 in _walk(model, test_ids, vocab):
        stop = start + len(log10)
        probs = np.exp(log10 * _LN10)
        p_target[start:stop] = probs
        # Above one half the target wins outright; elsewhere try every token in the context.
        argmax[start:stop] = targets[start:stop]
        for j in np.flatnonzero(probs <= 0.5).tolist():
            every = list(map(score, repeat(states[j], vocab_size), names, repeat(scratch)))
            argmax[start + j] = every.index(max(every))  # the lowest id among ties
            scans += 1
        rate = stop / max(time.perf_counter() - started, 1e-9)
        logger.info("n-gram scored %d/%d positions (%.0f chars/s)", stop, len(targets), rate)
    seconds = time.perf_counter() - started
    logger.info(
        "n-gram scored %d positions in %.1f s (%.0f chars/s); %d needed a full argmax scan",
        len(targets),
        seconds,
        len(targets) / max(seconds, 1e-9),
        scans,
    )
    return p_target, argmax
