"""Error oracles (Fig. 6): each oracle on crafted text removes exactly its errors, the
categories partition the errors, and the comparison, selection and pages are right."""

from __future__ import annotations

import re

import numpy as np
import pytest

from visrnn.figures.oracle_figures import plot_oracle_pie, plot_scaling, render_examples
from visrnn.figures.oracles import (
    REMAINING,
    TextWords,
    compare_models,
    oracle_rows,
    oracles,
    peel,
    scaling_summary,
    select_model,
)
from visrnn.plan import ConfigError, check_config

ERR, RIGHT = 0.25, 0.75


def scores_for(text: bytes, erring: list[int]) -> np.ndarray:
    """p(target) per position: ERR where the target byte index is in ``erring``."""
    p = np.full(len(text) - 1, RIGHT, dtype=np.float32)
    p[np.asarray(erring, dtype=int) - 1] = ERR
    return p


def at(text: bytes, needle: bytes, occurrence: int = 0, offset: int = 0) -> int:
    """Byte index of ``offset`` into the ``occurrence``-th match of ``needle``."""
    starts = [m.start() for m in re.finditer(re.escape(needle), text)]
    return starts[occurrence] + offset


def removed_by(text: bytes, erring: list[int], settings: dict, **kwargs) -> dict[str, list[int]]:
    """Target byte indices each category removed (categories with none left out)."""
    test = TextWords.build(text, kwargs.pop("train", b""), max(settings.get("memory", [0])))
    p = scores_for(text, erring)
    chain = oracles(test, p, kwargs.pop("ngram", {}), settings)
    return {
        step.oracle.name: sorted((np.flatnonzero(step.removed) + 1).tolist())
        for step in peel(p < 0.5, chain)
        if step.removed.any()
    }


def test_words_keep_inner_apostrophes_and_stop_at_quotes_crlf_and_punctuation():
    text = b"He said \"Mary's cat couldn't,\"\r\n'Mary' ran."
    test = TextWords.build(text, b"")
    words = [text[s:e] for s, e in zip(test.starts, test.ends, strict=True)]
    assert words == [b"He", b"said", b"Mary's", b"cat", b"couldn't", b"Mary", b"ran"]
    assert test.word[at(text, b"Mary's", offset=4)] == 2  # the apostrophe is inside
    assert test.offset[at(text, b"couldn't", offset=7)] == 7
    for outside in (b",", b"\r", b"\n", b'"'):
        assert test.word[at(text, outside)] == -1


def test_ngram_oracles_remove_errors_any_earlier_n_gets_right():
    text = b"abcdefghij"
    erring = [2, 4, 6, 8]
    ngram = {1: np.full(9, 0.1, np.float32), 3: np.full(9, 0.1, np.float32)}
    ngram[1][[1, 5]] = 0.6  # positions 1, 5 predict bytes 2, 6
    ngram[3][[1, 3]] = 0.5  # byte 2 is already gone; byte 4 is new (p = 0.5 is right)
    settings = {"order": ["ngram"], "ngram": [1, 3]}
    assert removed_by(text, erring, settings, ngram=ngram) == {
        "1-gram": [2, 6],
        "3-gram": [4],
        REMAINING: [8],
    }


def test_memory_oracle_removes_a_repeated_word_from_its_second_character():
    text = b"Jon yelled at Mary but Mary couldn't hear him."
    first, second = at(text, b"Mary", 0), at(text, b"Mary", 1)
    erring = [first + 1, second, second + 1, second + 2, second + 3, at(text, b"hear", 0, 1)]
    removed = removed_by(text, erring, {"order": ["memory"], "memory": [9, 100]})
    # The word starts 9 characters after the first Mary starts: window 9 just holds it; its
    # first character and the first Mary's errors are not memory errors.
    assert removed == {
        "9-memory": [second + 1, second + 2, second + 3],
        REMAINING: [first + 1, second, at(text, b"hear", 0, 1)],
    }
    narrow = removed_by(text, erring, {"order": ["memory"], "memory": [8]})
    assert "8-memory" not in narrow


def test_memory_oracle_finds_words_across_crlf_and_not_inside_the_word_itself():
    text = b"Mary\r\nMary abab"
    second = at(text, b"Mary", 1)
    erring = [second + 1, at(text, b"abab", offset=2), at(text, b"abab", offset=3)]
    removed = removed_by(text, erring, {"order": ["memory"], "memory": [6]})
    assert removed == {"6-memory": [second + 1], REMAINING: erring[1:]}


def test_rare_word_oracles_remove_whole_words_by_training_count():
    train = b"the cat, the cat. The dog"
    text = b"the bird ate the dog's cat"
    erring = [at(text, b"bird"), at(text, b"bird", offset=2), at(text, b"dog's", offset=1)]
    erring += [at(text, b"cat", offset=1), at(text, b"the", 1, 1), at(text, b"ate", offset=1)]
    removed = removed_by(
        text, erring, {"order": ["rare_words"], "rare_words": [0, 1, 2]}, train=train
    )
    # bird, ate and dog's never occur in training (dog's is not dog); cat and the twice.
    assert removed == {
        "word 0-train": sorted([*erring[:3], at(text, b"ate", offset=1)]),
        "word 2-train": sorted([at(text, b"cat", offset=1), at(text, b"the", 1, 1)]),
    }


def test_word_model_oracle_after_space_quote_and_line_end_only():
    text = b"He said \"Hi\" and\r\nleft, couldn't 'go'"
    after_space = at(text, b"said")
    after_quote = at(text, b"Hi")
    after_single_quote = at(text, b"go")
    after_newline = at(text, b"left")
    crlf_lf = at(text, b"\n")
    inner_apostrophe = at(text, b"couldn't", offset=7)
    comma = at(text, b",")
    erring = [after_space, after_quote, after_single_quote, after_newline, crlf_lf]
    erring += [inner_apostrophe, comma]
    removed = removed_by(text, erring, {"order": ["word_model"]})
    assert removed == {
        "after space": [after_space],
        "after quote": sorted([after_quote, after_single_quote]),
        "after newline": [after_newline],
        REMAINING: sorted([crlf_lf, inner_apostrophe, comma]),
    }


def test_punctuation_and_boost_oracles():
    text = b'ab, "cd." ef'
    erring = [at(text, b","), at(text, b'"'), at(text, b"."), at(text, b"d"), at(text, b"f")]
    removed = removed_by(text, erring, {"order": ["punctuation"]})
    assert removed == {"punctuation": sorted(erring[:3]), REMAINING: sorted(erring[3:])}

    test = TextWords.build(text, b"")
    p = scores_for(text, erring)
    p[at(text, b"d") - 1] = 0.125
    p[at(text, b"f") - 1] = 0.0
    steps = peel(p < 0.5, oracles(test, p, {}, {"order": ["boost"], "boost": [0.25, 0.5]}))
    assert [(s.oracle.name, (np.flatnonzero(s.removed) + 1).tolist()) for s in steps] == [
        ("boost 0.25", sorted(erring[:3])),  # p = 0.25 + 0.25 reaches 0.5
        ("boost 0.5", [at(text, b"d"), at(text, b"f")]),
    ]


def test_the_chain_puts_each_error_in_the_first_category_that_explains_it():
    train = b"Mary had a lamb. "
    text = b"Mary had a lamb, Mary had zzz.\r\nMary"
    erring = {
        at(text, b"ary", 1): "500-memory",  # the second Mary, from its second character
        at(text, b"ad", 1): "1-gram",  # a repeated word too, but the 1-gram comes first
        at(text, b"zzz", offset=1): "word 0-train",
        at(text, b"had", 1): "after space",
        at(text, b"Mary", 2): "after newline",  # a first character; Mary is seen in training
        at(text, b","): "punctuation",
        at(text, b"\n"): "boost 0.5",
    }
    ngram = {1: np.full(len(text) - 1, 0.1, np.float32)}
    ngram[1][at(text, b"ad", 1) - 1] = 0.9
    settings = {
        "order": ["ngram", "memory", "rare_words", "word_model", "punctuation", "boost"],
        "ngram": [1],
        "memory": [500],
        "rare_words": [0],
        "boost": [0.5],
    }
    removed = removed_by(text, list(erring), settings, ngram=ngram, train=train)
    expected: dict[str, list[int]] = {}
    for index, name in sorted(erring.items()):
        expected.setdefault(name, []).append(index)
    assert removed == expected


def test_categories_partition_the_errors_of_random_text():
    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(b"abc de'\"\r\n.,", dtype=np.uint8)
    text = alphabet[rng.integers(0, len(alphabet), 5000)].tobytes()
    train = alphabet[rng.integers(0, len(alphabet), 5000)].tobytes()
    p = rng.random(len(text) - 1).astype(np.float32)
    ngram = {n: rng.random(len(text) - 1).astype(np.float32) for n in (1, 2)}
    settings = {
        "order": ["ngram", "memory", "rare_words", "word_model", "punctuation", "boost"],
        "ngram": [1, 2],
        "memory": [10, 100],
        "rare_words": [0, 1],
        "boost": [0.1, 0.2],  # not enough to clear every error: a remainder is left
    }
    test = TextWords.build(text, train, 100)
    errors = p < 0.5
    steps = peel(errors, oracles(test, p, ngram, settings))
    stacked = np.stack([step.removed for step in steps])
    assert (stacked.sum(axis=0) == errors).all()  # every error in exactly one category
    assert steps[-1].oracle.family == REMAINING
    rows = oracle_rows("lstm-1L-x", "small", steps, len(errors))
    assert sum(row["errors_removed"] for row in rows) == errors.sum()
    assert {row["test_positions"] for row in rows} == {len(errors)}
    assert rows[-1]["errors_left"] == 0
    assert [row["errors_left"] for row in rows[:-1]] == [
        int(errors.sum() - stacked[: i + 1].sum()) for i in range(len(rows) - 1)
    ]
    assert sum(row["fraction"] for row in rows) == pytest.approx(1.0, abs=1e-4)


def _rows(model: str, role: str, counts: dict[str, int]) -> list[dict]:
    return [
        {
            "model": model,
            "role": role,
            "family": name.split(":")[0],
            "oracle": name,
            "errors_removed": c,
            "test_positions": 1000,
        }
        for name, c in counts.items()
    ]


def test_comparison_says_which_families_scaling_up_removed():
    small = _rows(
        "lstm-1L-50k", "small", {"ngram:1": 30, "ngram:2": 20, "memory:9": 5, "boost:1": 10}
    )
    large = _rows(
        "lstm-3L-1.3m", "large", {"ngram:1": 5, "ngram:2": 5, "memory:9": 5, "boost:1": 0}
    )
    rows = compare_models(small, large)
    by_family = {row["family"]: row for row in rows}
    assert list(by_family) == ["ngram", "memory", "boost", "total"]
    assert by_family["ngram"]["difference"] == 40
    assert by_family["ngram"]["share_of_difference"] == pytest.approx(0.8)
    assert by_family["total"]["difference"] == 50
    assert {row["test_positions"] for row in rows} == {1000}
    summary = scaling_summary(rows)
    assert summary.startswith("lstm-3L-1.3m makes 50 fewer errors than lstm-1L-50k")
    assert "80% of them in the ngram" in summary
    assert scaling_summary(compare_models(large, large)) == (
        "lstm-3L-1.3m and lstm-3L-1.3m make as many errors (15): scaling up removed none"
    )
    assert scaling_summary(compare_models(large, small)).startswith(
        "lstm-1L-50k makes 50 more errors than lstm-3L-1.3m"
    )


def test_select_model_by_selector():
    rows = [
        {
            "model": "lstm-3L-1.3m",
            "type": "lstm",
            "layers": 3,
            "budget": "1.3m",
            "parameters": 3000000,
            "test_loss": 1.08,
        },
        {
            "model": "lstm-2L-50k",
            "type": "lstm",
            "layers": 2,
            "budget": "50k",
            "parameters": 50000,
            "test_loss": 1.44,
        },
        {
            "model": "lstm-1L-50k",
            "type": "lstm",
            "layers": 1,
            "budget": "50k",
            "parameters": 50100,
            "test_loss": 1.40,
        },
        {
            "model": "gru-1L-50k",
            "type": "gru",
            "layers": 1,
            "budget": "50k",
            "parameters": 50000,
            "test_loss": 1.30,
        },
    ]
    assert select_model(rows, "best") == "lstm-3L-1.3m"
    assert select_model(rows, "best-smallest") == "lstm-1L-50k"
    assert select_model(rows, "lstm-2L-50k") == "lstm-2L-50k"
    with pytest.raises(ValueError, match=r"analysis\.oracles\.models: 'lstm-9L-50k'"):
        select_model(rows, "lstm-9L-50k")


def test_pages_highlight_the_errors_and_box_the_earlier_occurrence(tmp_path):
    text = b"Jon met <Mary> & Mary."
    second = at(text, b"Mary", 1)
    erring = [second + 1, second + 2, at(text, b"&")]
    test = TextWords.build(text, b"", 100)
    p = scores_for(text, erring)
    steps = peel(
        p < 0.5, oracles(test, p, {}, {"order": ["memory", "punctuation"], "memory": [100]})
    )
    page = render_examples(test, steps, "lstm <test>", per_category=3)
    assert "<title>lstm &lt;test&gt;</title>" in page
    assert '<span class="err">a</span><span class="err">r</span>' in page
    assert '<span class="mem">Mary</span>' in page
    assert '<span class="err">&amp;</span>' in page and "&lt;" in page
    assert "100-memory" in page and "punctuation" in page

    script = TextWords.build(b"<script>x</script> <script>", b"", 100)
    p = scores_for(script.text, [at(script.text, b"x")])
    page = render_examples(script, peel(p < 0.5, oracles(script, p, {}, {"order": []})), "t")
    assert "<script>" not in page and "&lt;script&gt;" in page

    rows = oracle_rows("lstm-1L-x", "large", steps, len(text) - 1)
    plot_oracle_pie(rows, len(text) - 1, tmp_path / "pie.png")
    comparison = compare_models(rows, rows)
    plot_scaling(comparison, scaling_summary(comparison), tmp_path / "scaling.png")
    assert (tmp_path / "pie.png").stat().st_size > 0 and (
        tmp_path / "scaling.png"
    ).stat().st_size > 0


def _config(**oracle_settings) -> dict:
    return {
        "datasets": {"wp": {"kind": "text", "split": [0.8, 0.1, 0.1]}},
        "grid": {"types": ["lstm"], "layers": [1], "budgets": {"10k": 24}, "dropouts": [0.0]},
        "baselines": {"ngram": {"n": [1, 3]}},
        "analysis": {"oracles": {"datasets": ["wp"], "order": ["ngram"], **oracle_settings}},
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ngram": [1, 2]}, r"analysis.oracles.ngram: \[2\] not among baselines.ngram.n"),
        ({"datasets": ["lk"]}, r"analysis.oracles.datasets: \['lk'\]"),
        ({"models": {"large": "lstm-2L-10k"}}, "analysis.oracles.models.large: lstm-2L-10k"),
    ],
)
def test_config_errors_name_the_key(settings, message):
    with pytest.raises(ConfigError, match=message):
        check_config(_config(**settings))
    check_config(_config(ngram=[1, 3], models={"large": "lstm-1L-10k", "small": "best"}))
