"""The KenLM n-gram baseline on tiny synthetic corpora."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

from visrnn.data.splits import Vocab
from visrnn.scoring import ngram
from visrnn.scoring.ngram import (
    KenLMError,
    KenLMNotInstalledError,
    KenLMOrderError,
    build_ngram,
    context_state,
    find_program,
    kenlm_state,
    load_model,
    next_distribution,
    require_kenlm_order,
    score_ngram,
    target_probabilities,
    token_ids,
    token_names,
    write_training_text,
)

MEMORY = "64M"


def _kenlm_missing() -> str | None:
    try:
        find_program("lmplz")
        find_program("build_binary")
        import kenlm  # noqa: F401
    except (KenLMNotInstalledError, ImportError) as error:
        return str(error)
    return None


_MISSING = _kenlm_missing()
needs_kenlm = pytest.mark.skipif(_MISSING is not None, reason=f"KenLM not installed: {_MISSING}")


def synthetic_text(n_bytes: int, seed: int) -> bytes:
    """Words, tabs, CRLF line ends and a two-byte UTF-8 character: every kind of token."""
    rng = np.random.default_rng(seed)
    words = [b"the", b"cat", b"sat", b"on", b"a", b"mat", b"\tdog", b"caf\xc3\xa9", b"(x)"]
    pieces: list[bytes] = []
    while sum(map(len, pieces)) < n_bytes:
        pieces.append(words[rng.integers(len(words))])
        pieces.append(b"\r\n" if rng.random() < 0.15 else b" ")
    return b"".join(pieces)[:n_bytes]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Vocab]:
    """A 4-gram (n = 3) trained on 20 KB of synthetic text."""
    train = synthetic_text(20_000, seed=0)
    vocab = Vocab.from_bytes(train)
    binary = tmp_path_factory.mktemp("tiny") / "ngram3.bin"
    build_ngram(vocab.encode(train), vocab, 3, binary, memory=MEMORY)
    return binary, vocab


def test_every_byte_maps_to_a_kenlm_token_and_back() -> None:
    vocab = Vocab(tuple(range(256)))
    names, ids = token_names(vocab), token_ids(vocab)
    assert len(set(names)) == vocab.size == 257
    assert names[vocab.unk_id] == "<unk>"
    for byte in range(256):
        name = names[int(vocab.encode(bytes([byte]))[0])]
        assert name not in ("<s>", "</s>", "<unk>")
        assert name and not any(c.isspace() for c in name), repr(name)
        assert vocab.decode([ids[name]]) == bytes([byte])


def test_names_kenlm_reserves_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Vocab, "name", lambda self, token_id: "</s>" if token_id == 0 else "x")
    with pytest.raises(ValueError, match="KenLM tokens"):
        token_names(Vocab((65, 66)))


def test_training_text_is_one_line_of_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ngram, "_WRITE_CHUNK", 7)  # several chunks must still join as one line
    text = synthetic_text(200, seed=1)
    vocab = Vocab.from_bytes(text)
    ids = vocab.encode(text)
    stream = io.BytesIO()
    write_training_text(ids, vocab, stream)
    written = stream.getvalue()
    assert written.count(b"\n") == 1 and written.endswith(b"\n")
    assert b"\r" not in written and b"\t" not in written
    names = token_names(vocab)
    assert written.decode("ascii").split() == [names[i] for i in ids.tolist()]


def test_training_ids_outside_the_vocabulary_are_refused() -> None:
    vocab = Vocab((97, 98))
    with pytest.raises(ValueError, match="not built from this training split"):
        write_training_text(np.array([0, 1, vocab.unk_id]), vocab, io.BytesIO())


def test_missing_lmplz_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    vocab = Vocab((97, 98))
    with pytest.raises(KenLMNotInstalledError, match=r"lmplz.*install_kenlm\.sh"):
        build_ngram(np.array([0, 1, 0]), vocab, 2, tmp_path / "m.bin", memory=MEMORY)
    assert not (tmp_path / "m.bin").exists()


def test_programs_beside_python_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    beside = tmp_path / "lmplz"
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert find_program("lmplz") == beside


@needs_kenlm
def test_build_writes_a_binary_trie_and_no_arpa(tmp_path: Path) -> None:
    train = synthetic_text(5_000, seed=2)
    vocab = Vocab.from_bytes(train)
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    build_ngram(vocab.encode(train), vocab, 5, out / "ngram5.bin", memory=MEMORY, tmp_dir=scratch)
    assert [p.name for p in out.iterdir()] == ["ngram5.bin"]
    assert list(scratch.iterdir()) == []
    assert (out / "ngram5.bin").read_bytes()[:8] == b"mmap lm "  # KenLM binary, not ARPA text
    assert load_model(out / "ngram5.bin", vocab).order == 6


@needs_kenlm
def test_probabilities_of_every_token_sum_to_one(tiny: tuple[Path, Vocab]) -> None:
    binary, vocab = tiny
    model = load_model(binary, vocab)
    seen = vocab.encode(synthetic_text(60, seed=3))
    contexts = [seen[:0], seen[:1], seen[:9], seen, np.array([vocab.unk_id]), seen[::-1]]
    for context in contexts:
        state = context_state(model, context, vocab)
        p = next_distribution(model, state, vocab)
        end_of_sentence = 10.0 ** model.BaseScore(state, "</s>", kenlm_state())
        assert p.shape == (vocab.size,)
        assert p.sum() + end_of_sentence == pytest.approx(1.0, abs=1e-4)


@needs_kenlm
def test_scores_match_brute_force_over_the_full_distribution(tiny: tuple[Path, Vocab]) -> None:
    binary, vocab = tiny
    test = vocab.encode(synthetic_text(200, seed=4) + b"\x00~" + synthetic_text(100, seed=5))
    assert vocab.unk_id in test  # bytes never seen in training are scored as <unk>
    p_target, argmax = score_ngram(binary, test, vocab)
    assert p_target.dtype == np.float32 and len(p_target) == len(argmax) == len(test) - 1
    model = load_model(binary, vocab)
    for t in range(len(test) - 1):
        p = next_distribution(model, context_state(model, test[: t + 1], vocab), vocab)
        assert p_target[t] == pytest.approx(p[test[t + 1]], rel=1e-5)
        assert argmax[t] == np.argmax(p)
    assert np.any(p_target > 0.5) and np.any(p_target <= 0.5)  # both argmax paths ran
    np.testing.assert_array_equal(target_probabilities(binary, test, vocab), p_target)


@needs_kenlm
def test_order_21_builds_and_scores_on_a_tiny_corpus(tmp_path: Path) -> None:
    train = synthetic_text(3_000, seed=6)
    vocab = Vocab.from_bytes(train)
    build_ngram(vocab.encode(train), vocab, 20, tmp_path / "ngram20.bin", memory=MEMORY)
    assert load_model(tmp_path / "ngram20.bin", vocab).order == 21
    p_target, _ = score_ngram(tmp_path / "ngram20.bin", vocab.encode(train[:500]), vocab)
    assert np.all((p_target > 0) & (p_target <= 1))
    assert np.mean(p_target > 0.9) > 0.5  # the training text itself is nearly certain


@needs_kenlm
def test_kenlm_module_order_limit_is_a_clear_error() -> None:
    require_kenlm_order(21)
    with pytest.raises(KenLMOrderError, match="KENLM_MAX_ORDER"):
        require_kenlm_order(400)


@needs_kenlm
def test_failing_lmplz_reports_its_stderr_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in [
        ("lmplz", "cat >/dev/null; echo 'lmplz exploded: bad corpus' >&2; exit 3"),
        ("build_binary", "cat >/dev/null; exit 1"),
    ]:
        (bin_dir / name).write_text(f"#!/bin/sh\n{script}\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    vocab = Vocab((97, 98))
    with pytest.raises(KenLMError, match=r"lmplz failed with exit status 3(.|\n)*lmplz exploded"):
        build_ngram(np.array([0, 1] * 50), vocab, 2, out / "m.bin", memory=MEMORY, tmp_dir=scratch)
    assert list(out.iterdir()) == [] and list(scratch.iterdir()) == []


@needs_kenlm
def test_a_model_of_another_vocabulary_is_refused(tiny: tuple[Path, Vocab]) -> None:
    binary, vocab = tiny
    other = Vocab(tuple(sorted({*vocab.symbols, ord("Z")})))
    with pytest.raises(ValueError, match=r"lacks the tokens \['Z'\]"):
        load_model(binary, other)
