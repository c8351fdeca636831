"""Corpora: checksum lookup, verified downloads, newline handling, the kernel-tarball corpus."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import tarfile
import urllib.error
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

import pytest

from visrnn.data import corpora
from visrnn.data.corpora import (
    CORPUS_DIRS_ENV,
    CorpusError,
    _SmallestKeyFiles,
    build_corpus,
    build_kernel_corpus,
    corpus_file_rows,
    corpus_file_warnings,
    corpus_files_kept,
    kernel_file_key,
    locate_source,
    make_corpus,
    read_kernel_corpus,
    read_text_corpus,
    resolve_source,
    sha256_file,
)

WARPEACE_SHA256 = "0139dcd32c37853541e8710281c32d823bb8ea86a86578916305bad06e3da0ea"
PAPER_LK_BYTES = 6_206_996

# A kernel-like tree: path in the tree -> content; None marks a directory.
SOURCE_FILES = {
    "kernel/fork.c": b"int fork(void) { return 0; }\n",
    "kernel/sched/core.c": b"void schedule(void);\n" * 7,
    "include/linux/list.h": b"#define LIST_HEAD(x)\n",
    "mm/slab.c": b"/* slab */\n" * 11,
    "drivers/odd.c/inner.h": b"struct inner;\n",  # a regular .h inside a directory named *.c
    "lib/empty.h": b"",
}
OTHER_FILES = {"Makefile": b"obj-y += fork.o\n", "arch/x86/entry.S": b"ret\n"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keyed_concatenation(seed: int) -> bytes:
    """What the kernel corpus must be, computed independently: sources by sha256 key."""
    order = sorted(SOURCE_FILES, key=lambda path: _sha(f"{seed}:{path}".encode()))
    return b"".join(SOURCE_FILES[path] for path in order)


@pytest.fixture(autouse=True)
def _no_env_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CORPUS_DIRS_ENV, raising=False)
    corpora._HASH_CACHE.clear()


@pytest.fixture
def kernel_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree" / "linux-x"
    for rel, content in {**SOURCE_FILES, **OTHER_FILES}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    (root / "link.c").symlink_to("kernel/fork.c")
    (root / "empty_dir.h").mkdir()
    return root


def _tar(root: Path, path: Path, mode: str, *, reverse: bool = False) -> Path:
    """Archive ``root`` as ``linux-x/...``; ``reverse`` stores members in the opposite order."""
    members = sorted(root.rglob("*"), reverse=reverse)
    with tarfile.open(path, mode) as archive:
        archive.add(root, arcname="linux-x", recursive=False)
        for member in members:
            archive.add(member, arcname=f"linux-x/{member.relative_to(root)}", recursive=False)
    return path


# --- locating by checksum -------------------------------------------------------------------


def test_sha256_file_streams_the_published_checksum(shared_data: Path) -> None:
    assert sha256_file(shared_data / "warpeace_input.txt") == WARPEACE_SHA256


def test_locate_ignores_wrong_checksum_and_skips_missing_dirs(tmp_path: Path) -> None:
    decoy_dir, good_dir = tmp_path / "decoy", tmp_path / "good"
    decoy_dir.mkdir()
    good_dir.mkdir()
    (decoy_dir / "corpus.txt").write_bytes(b"not the corpus\n")  # right name, wrong content
    (good_dir / "renamed.txt").write_bytes(b"the corpus\n")
    found = locate_source(
        _sha(b"the corpus\n"),
        "https://example.invalid/corpus.txt",
        [tmp_path / "missing", decoy_dir, good_dir],
        tmp_path / "downloads",
        name="toy",
    )
    assert found == good_dir / "renamed.txt"


def test_locate_searches_env_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "c.txt").write_bytes(b"corpus")
    monkeypatch.setenv(CORPUS_DIRS_ENV, f"{tmp_path / 'nope'}{os.pathsep}{env_dir}")
    found = locate_source(_sha(b"corpus"), None, [], tmp_path / "dl", name="toy")
    assert found == env_dir / "c.txt"


def test_locate_prefers_the_urls_basename(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for directory in (first, second):
        directory.mkdir()
    (first / "copy.txt").write_bytes(b"same")
    (second / "input.txt").write_bytes(b"same")
    found = locate_source(
        _sha(b"same"), "https://h/x/input.txt", [first, second], tmp_path / "dl", name="toy"
    )
    assert found == second / "input.txt"


def test_locate_hashes_plausible_sizes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 100)
    (tmp_path / "match.txt").write_bytes(b"corpus")
    hashed: list[str] = []
    real_sha256_file = corpora.sha256_file

    def counting_sha256_file(path: Path) -> str:
        hashed.append(Path(path).name)
        return real_sha256_file(path)

    monkeypatch.setattr(corpora, "sha256_file", counting_sha256_file)
    for _ in range(2):
        found = locate_source(_sha(b"corpus"), None, [tmp_path], tmp_path / "dl", name="t", size=6)
        assert found == tmp_path / "match.txt"
    assert hashed == ["match.txt"]


def test_locate_without_url_names_the_directories(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as error:
        locate_source("ab" * 32, None, [tmp_path / "cfg"], tmp_path / "dl", name="wp")
    message = str(error.value)
    assert str(tmp_path / "cfg") in message
    assert str(tmp_path / "dl") in message
    assert CORPUS_DIRS_ENV in message


def test_locate_rejects_malformed_checksum(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="64 hex digits"):
        locate_source("abc", None, [tmp_path], tmp_path, name="wp")


# --- downloads (file:// URLs or a fake urlopen; never the network) ----------------------------


def test_download_verifies_and_keeps_the_file(tmp_path: Path) -> None:
    published = tmp_path / "server" / "corpus.txt"
    published.parent.mkdir()
    published.write_bytes(b"published corpus\n" * 1000)
    downloads = tmp_path / "dl"
    found = locate_source(
        _sha(published.read_bytes()), published.as_uri(), [], downloads, name="toy"
    )
    assert found == downloads / "corpus.txt"
    assert found.read_bytes() == published.read_bytes()
    assert sorted(p.name for p in downloads.iterdir()) == ["corpus.txt"]  # no temporary left
    # A second lookup finds the downloaded copy instead of fetching again.
    published.unlink()
    assert locate_source(_sha(found.read_bytes()), published.as_uri(), [], downloads, name="t")


def test_mismatched_download_fails_and_leaves_nothing(tmp_path: Path) -> None:
    published = tmp_path / "server" / "corpus.txt"
    published.parent.mkdir()
    published.write_bytes(b"tampered")
    downloads = tmp_path / "dl"
    expected = _sha(b"original")
    with pytest.raises(CorpusError) as error:
        locate_source(expected, published.as_uri(), [], downloads, name="toy")
    message = str(error.value)
    assert published.as_uri() in message
    assert expected in message
    assert _sha(b"tampered") in message
    assert list(downloads.iterdir()) == []


class _ShortResponse(io.BytesIO):
    """A response announcing more bytes than it delivers, as a dropped connection does."""

    headers: ClassVar[dict[str, str]] = {"Content-Length": "1000"}


def test_truncated_download_fails_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        corpora.urllib.request, "urlopen", lambda url, timeout: _ShortResponse(b"x")
    )
    with pytest.raises(CorpusError, match=r"truncated: 1 of 1000 bytes") as error:
        locate_source(_sha(b"x" * 1000), "https://h/c.txt", [], tmp_path / "dl", name="toy")
    assert "https://h/c.txt" in str(error.value)
    assert list((tmp_path / "dl").iterdir()) == []


def test_download_without_network_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str, timeout: float) -> None:
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(corpora.urllib.request, "urlopen", offline)
    with pytest.raises(CorpusError, match=r"could not download https://h/c\.txt") as error:
        locate_source(_sha(b"c"), "https://h/c.txt", [], tmp_path / "dl", name="toy")
    assert "name resolution" in str(error.value)
    assert CORPUS_DIRS_ENV in str(error.value)


# --- user's own files -------------------------------------------------------------------------


def test_resolve_source_accepts_an_own_text_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mine.txt").write_bytes(b"my text\n")
    assert resolve_source({"sha256": None, "path": "mine.txt"}, [], "dl", "own") == Path("mine.txt")
    source = {"sha256": _sha(b"my text\n"), "path": "mine.txt"}
    assert resolve_source(source, [], "dl", "own") == Path("mine.txt")


def test_resolve_source_own_file_checksum_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mine.txt").write_bytes(b"edited\n")
    with pytest.raises(CorpusError, match=r"mine\.txt has sha256"):
        resolve_source({"sha256": _sha(b"original\n"), "path": "mine.txt"}, [], "dl", "own")


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ({"path": "absent.txt"}, "absent.txt is not a file"),
        ({"sha256": None}, "needs 'sha256'"),
        ({"sha256": "ab" * 32, "ulr": "https://h/x"}, "unknown source key"),
        ({"path": "x.txt", "url": "https://h/x"}, "both 'path' and 'url'"),
    ],
)
def test_resolve_source_rejects_bad_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: dict[str, str | None], complaint: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CorpusError, match=complaint):
        resolve_source(source, [], "dl", "own")


def test_resolve_source_locates_by_checksum(tmp_path: Path) -> None:
    (tmp_path / "wp.txt").write_bytes(b"text")
    found = resolve_source({"sha256": _sha(b"text"), "url": None}, [tmp_path], tmp_path, "wp")
    assert found == tmp_path / "wp.txt"


# --- text corpora -----------------------------------------------------------------------------


def test_warpeace_read_as_the_paper_did(shared_data: Path) -> None:
    corpus = read_text_corpus(shared_data / "warpeace_input.txt", "crlf")
    assert len(corpus) == 3_258_250
    assert len(set(corpus)) == 87


@pytest.mark.parametrize(
    ("newlines", "expected"),
    [("keep", b"a\r\nb\rc\nd"), ("lf", b"a\nb\nc\nd"), ("crlf", b"a\r\nb\r\nc\r\nd")],
)
def test_newline_modes(tmp_path: Path, newlines: str, expected: bytes) -> None:
    (tmp_path / "t.txt").write_bytes(b"a\r\nb\rc\nd")
    assert read_text_corpus(tmp_path / "t.txt", newlines) == expected


def test_unknown_newline_mode(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_bytes(b"a")
    with pytest.raises(CorpusError, match="newlines='cr'"):
        read_text_corpus(tmp_path / "t.txt", "cr")


def test_text_corpus_prefix(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_bytes(b"a\rbcdef")
    spec = {"kind": "text", "newlines": "crlf", "max_bytes": 4}
    assert build_corpus(spec, tmp_path / "t.txt") == b"a\r\nb"


def test_empty_text_corpus_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"empty\.txt is empty"):
        build_corpus({"kind": "text", "newlines": "keep"}, tmp_path / "empty.txt")


def test_build_corpus_rejects_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="kind 'csv'"):
        build_corpus({"kind": "csv"}, tmp_path / "x")
    with pytest.raises(CorpusError, match="'shuffle_seed'"):
        build_corpus({"kind": "kernel_tarball", "max_bytes": 10}, tmp_path / "x.tar.xz")


# --- kernel corpora ---------------------------------------------------------------------------


def test_kernel_key_ignores_the_top_directory() -> None:
    key = kernel_file_key(3, "linux-6.1/kernel/fork.c")
    assert key == kernel_file_key(3, "./linux-6.1-c-subset/kernel/fork.c")
    assert key == _sha(b"3:kernel/fork.c")
    assert key != kernel_file_key(4, "linux-6.1/kernel/fork.c")


@pytest.mark.parametrize(("suffix", "mode"), [(".tar.gz", "w:gz"), (".tar.bz2", "w:bz2")])
def test_kernel_corpus_takes_regular_sources_in_key_order(
    kernel_tree: Path, tmp_path: Path, suffix: str, mode: str
) -> None:
    tarball = _tar(kernel_tree, tmp_path / f"linux-x{suffix}", mode)
    assert build_kernel_corpus(tarball, 10**6, seed=5) == _keyed_concatenation(5)


def test_kernel_corpus_same_from_xz_whatever_the_name(kernel_tree: Path, tmp_path: Path) -> None:
    gz = build_kernel_corpus(_tar(kernel_tree, tmp_path / "k.tar.gz", "w:gz"), 10**6, seed=1)
    xz = _tar(kernel_tree, tmp_path / "k.tar.xz", "w:xz")
    assert build_kernel_corpus(xz, 10**6, seed=1) == gz
    misnamed = xz.rename(tmp_path / "really-xz.tgz")  # compression is read from the content
    assert build_kernel_corpus(misnamed, 10**6, seed=1) == gz


@pytest.mark.parametrize("max_bytes", [40, 10**6])
def test_kernel_corpus_lists_the_files_it_took(
    kernel_tree: Path, tmp_path: Path, max_bytes: int
) -> None:
    corpus = read_kernel_corpus(_tar(kernel_tree, tmp_path / "k.tar.gz", "w:gz"), max_bytes, 3)
    order = sorted(SOURCE_FILES, key=lambda path: _sha(f"3:{path}".encode()))
    assert [file.path for file in corpus.files] == order[: len(corpus.files)]
    assert sum(file.bytes for file in corpus.files) == len(corpus.data)
    for file in corpus.files:  # each file's bytes, where the listing says (the last one cut)
        taken = corpus.data[file.offset : file.offset + file.bytes]
        assert taken == SOURCE_FILES[file.path][: file.bytes]
    assert corpus.data == _keyed_concatenation(3)[:max_bytes]


def test_text_corpus_is_one_file(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_bytes(b"abcdef")
    corpus = make_corpus({"kind": "text", "max_bytes": 4}, tmp_path / "t.txt")
    assert corpus.files_as_dicts() == [{"path": "t.txt", "offset": 0, "bytes": 4}]


def test_corpus_files_in_splits_and_warnings() -> None:
    files = [
        {"path": "a.c", "offset": 0, "bytes": 70},
        {"path": "big.h", "offset": 70, "bytes": 25},
        {"path": "z.c", "offset": 95, "bytes": 5},
    ]
    rows = corpus_file_rows(files, [(0, 80), (80, 90), (90, 100)], ("train", "val", "test"))
    assert [row["splits"] for row in rows] == ["train", "train,val,test", "test"]
    assert [row["share"] for row in rows] == [0.7, 0.25, 0.05]
    warnings = corpus_file_warnings(rows)
    assert len(warnings) == 3  # a.c and big.h dominate; big.h straddles; z.c is at 5% exactly
    assert "a.c holds 70.0%" in warnings[0] and "in train and val and test" in warnings[2]
    small = [{**row, "share": 0.01, "splits": "train"} for row in rows]
    assert corpus_file_warnings(small) == []


def test_kernel_corpus_ignores_member_order(kernel_tree: Path, tmp_path: Path) -> None:
    forward = _tar(kernel_tree, tmp_path / "f.tar.gz", "w:gz")
    backward = _tar(kernel_tree, tmp_path / "b.tar.gz", "w:gz", reverse=True)
    assert build_kernel_corpus(forward, 40, seed=2) == build_kernel_corpus(backward, 40, seed=2)


@pytest.mark.parametrize("max_bytes", [1, 25, 60, 150])
def test_kernel_corpus_cuts_inside_the_last_file(
    kernel_tree: Path, tmp_path: Path, max_bytes: int
) -> None:
    tarball = _tar(kernel_tree, tmp_path / "k.tar.gz", "w:gz")
    assert build_kernel_corpus(tarball, max_bytes, seed=7) == _keyed_concatenation(7)[:max_bytes]


def test_kernel_corpus_smaller_than_max_bytes_uses_all(
    kernel_tree: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tarball = _tar(kernel_tree, tmp_path / "k.tar.xz", "w:xz")
    with caplog.at_level(logging.WARNING, logger="visrnn.data.corpora"):
        corpus = build_kernel_corpus(tarball, 10**9, seed=0)
    assert corpus == _keyed_concatenation(0)
    assert "less than max_bytes" in caplog.text


def test_kernel_corpus_errors_name_the_tarball(kernel_tree: Path, tmp_path: Path) -> None:
    no_sources = tmp_path / "docs.tar.gz"
    with tarfile.open(no_sources, "w:gz") as archive:
        archive.add(kernel_tree / "Makefile", arcname="linux-x/Makefile")
    with pytest.raises(CorpusError, match=r"docs\.tar\.gz holds no regular \.c/\.h files"):
        build_kernel_corpus(no_sources, 100, seed=0)
    not_a_tar = tmp_path / "notes.tar.xz"
    not_a_tar.write_bytes(b"plain text, no archive")
    with pytest.raises(CorpusError, match=r"cannot read .*notes\.tar\.xz"):
        build_kernel_corpus(not_a_tar, 100, seed=0)
    with pytest.raises(CorpusError, match="positive integer"):
        build_kernel_corpus(not_a_tar, 0, seed=0)


def test_kept_files_stay_near_max_bytes() -> None:
    """Memory stays below max_bytes plus one file, and the kept files give the right cut."""
    rng = random.Random(0)
    files = {f"{i:04d}": bytes([i % 256]) * rng.randint(0, 300) for i in range(2000)}
    max_bytes = 5000
    kept = _SmallestKeyFiles(max_bytes)
    arrival = list(files)
    rng.shuffle(arrival)
    for key in arrival:
        if kept.wants(key):
            kept.add(key, files[key])
        assert kept.held_bytes < max_bytes + 300
    assert (
        b"".join(kept.contents_in_key_order())[:max_bytes]
        == (b"".join(files[key] for key in sorted(files))[:max_bytes])
    )


@pytest.fixture(scope="module")
def subset_corpora(shared_data: Path) -> dict[str, bytes]:
    """The paper-sized corpus from the subset tarball: seed 0 twice, seed 1 once."""
    subset = shared_data / "linux-6.1-c-subset.tar.xz"
    return {
        "seed0": build_kernel_corpus(subset, PAPER_LK_BYTES, seed=0),
        "seed0_again": build_kernel_corpus(subset, PAPER_LK_BYTES, seed=0),
        "seed1": build_kernel_corpus(subset, PAPER_LK_BYTES, seed=1),
    }


def test_subset_tarball_gives_the_paper_size(subset_corpora: dict[str, bytes]) -> None:
    assert len(subset_corpora["seed0"]) == PAPER_LK_BYTES
    assert len(subset_corpora["seed1"]) == PAPER_LK_BYTES


def test_subset_corpus_is_seeded(subset_corpora: dict[str, bytes]) -> None:
    assert subset_corpora["seed0"] == subset_corpora["seed0_again"]
    assert subset_corpora["seed0"] != subset_corpora["seed1"]


def test_kernel_spec_through_build_corpus(kernel_tree: Path, tmp_path: Path) -> None:
    tarball = _tar(kernel_tree, tmp_path / "k.tar.xz", "w:xz")
    spec = {"kind": "kernel_tarball", "max_bytes": 30, "shuffle_seed": 4}
    assert build_corpus(spec, tarball) == _keyed_concatenation(4)[:30]


# --- the kernel filter: generated files dropped before the shuffle --------------------------

GENERATED = "drivers/gpu/amd/asic_reg/dcn_sh_mask.h"


@pytest.fixture
def tree_with_generated_header(kernel_tree: Path, tmp_path: Path) -> Path:
    """The small tree plus a planted megabyte register header, as a .tar.gz."""
    header = kernel_tree / GENERATED
    header.parent.mkdir(parents=True)
    header.write_bytes(b"#define mmREG_0x1234_MASK 0x00000001L\n" * 27_000)  # ~1 MB
    return _tar(kernel_tree, tmp_path / "k.tar.gz", "w:gz")


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"max_file_bytes": 1000}, "max_file_bytes"),
        ({"exclude": ["*/asic_reg/*"]}, "exclude */asic_reg/*"),
        # both options: the reason is the first that applies, the glob
        ({"exclude": ["arch/*", "*/asic_reg/*"], "max_file_bytes": 1000}, "exclude */asic_reg/*"),
    ],
)
@pytest.mark.parametrize("max_bytes", [50, 10**7])
def test_the_kernel_filter_drops_a_generated_file_before_the_draw(
    tree_with_generated_header: Path, options: dict, reason: str, max_bytes: int
) -> None:
    spec = {"kind": "kernel_tarball", "max_bytes": max_bytes, "shuffle_seed": 6}
    unfiltered = make_corpus(spec, tree_with_generated_header)
    assert GENERATED in [file.path for file in unfiltered.files] or max_bytes == 50
    if max_bytes == 10**7:
        assert len(unfiltered.data) > 10**6  # without the filter the header is most of it
    corpus = make_corpus({**spec, **options}, tree_with_generated_header)
    # The draw is the one the remaining files give with the same seed.
    assert corpus.data == _keyed_concatenation(6)[:max_bytes]
    assert GENERATED not in [file.path for file in corpus.files]
    header_bytes = (tree_with_generated_header.parent / "tree/linux-x" / GENERATED).stat().st_size
    assert corpus.filter_record() == {
        "max_file_bytes": options.get("max_file_bytes"),
        "exclude": options.get("exclude", []),
        "dropped_files": 1,
        "dropped_bytes": header_bytes,
        "dropped": [{"path": GENERATED, "bytes": header_bytes, "reason": reason}],
    }


def test_the_dropped_file_is_listed_in_corpus_files_after_the_corpus(
    tree_with_generated_header: Path,
) -> None:
    """corpus_files.csv lists the corpus's files, then what the filter dropped and why; the
    dropped file is in no split and counts in no share, dominance or straddling warning."""
    spec = {"kind": "kernel_tarball", "max_bytes": 10**7, "shuffle_seed": 6}
    corpus = make_corpus({**spec, "max_file_bytes": 1000}, tree_with_generated_header)
    record = corpus.filter_record()
    assert record is not None
    files = [asdict(file) for file in corpus.files]
    bounds = [(0, len(corpus.data) // 2), (len(corpus.data) // 2, len(corpus.data))]
    rows = corpus_file_rows(files, bounds, ["train", "test"], record["dropped"])
    assert len(rows) == len(files) + 1
    *kept_rows, last = rows
    assert last["path"] == GENERATED and last["dropped"] == "max_file_bytes"
    assert last["offset"] is None and last["splits"] == "" and last["share"] == 0
    assert all(row["dropped"] == "" and row["splits"] for row in kept_rows)
    assert corpus_files_kept(rows) == kept_rows
    assert abs(sum(row["share"] for row in rows) - 1) < 1e-5
    assert not any(GENERATED in warning for warning in corpus_file_warnings(rows))


def test_no_filter_option_is_the_unfiltered_draw(tree_with_generated_header: Path) -> None:
    spec = {"kind": "kernel_tarball", "max_bytes": 10**7, "shuffle_seed": 6}
    corpus = make_corpus({**spec, "exclude": []}, tree_with_generated_header)
    assert corpus.data == build_kernel_corpus(tree_with_generated_header, 10**7, 6)
    assert corpus.filter_record() is None and corpus.dropped == ()
    assert make_corpus(spec, tree_with_generated_header).filter_record() is None


def test_the_kernel_filter_options_are_checked(
    tree_with_generated_header: Path, tmp_path: Path
) -> None:
    spec = {"kind": "kernel_tarball", "max_bytes": 100, "shuffle_seed": 6}
    with pytest.raises(CorpusError, match=r"'max_file_bytes'.*integer >= 1"):
        make_corpus({**spec, "max_file_bytes": 0}, tree_with_generated_header)
    with pytest.raises(CorpusError, match=r"'exclude'.*list of path globs"):
        make_corpus({**spec, "exclude": "*/asic_reg/*"}, tree_with_generated_header)
    with pytest.raises(CorpusError, match=r"no regular \.c/\.h files.*dropped by the filter"):
        make_corpus({**spec, "exclude": ["*"]}, tree_with_generated_header)
    (tmp_path / "t.txt").write_bytes(b"abc")
    with pytest.raises(CorpusError, match="filter the files of a kernel_tarball dataset"):
        make_corpus({"kind": "text", "max_file_bytes": 5}, tmp_path / "t.txt")
