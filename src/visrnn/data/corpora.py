"""Corpora: find each source file by its checksum, then turn it into a dataset's byte string.

A corpus source is pinned by its sha256, so a matching local copy is as good as the public
one: machines without web access (CI, clusters) run the pipeline unchanged. Local directories
are searched first (the config list, then ``$VISRNN_CORPUS_DIRS``, then the download
directory); the URL is only a fallback, and a download that does not hash to the pinned value
never lands under its final name. Users may instead point a dataset at a text file of their own.
"""

from __future__ import annotations

import fnmatch
import hashlib
import heapq
import http.client
import logging
import lzma
import os
import re
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from visrnn.common.files import atomic_path, sha256_file

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

CORPUS_DIRS_ENV = "VISRNN_CORPUS_DIRS"
NEWLINE_MODES = ("keep", "lf", "crlf")
SOURCE_KEYS = ("sha256", "url", "path", "size")
KERNEL_SOURCE_SUFFIXES = (".c", ".h")
#: A file holding more than this share of a corpus dominates it: the run warns (a generated
#: register header of a modern kernel can fill a third of a 6.2 MB draw).
DOMINANT_FILE_SHARE = 0.05

_BLOCK = 1 << 20
_PROGRESS_EVERY_MEMBERS = 10_000
_DOWNLOAD_TIMEOUT_S = 60
# (resolved path, size, mtime_ns) -> sha256, so repeated lookups in one process hash a file once.
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


class CorpusError(Exception):
    """A corpus source cannot be found, fetched or read; the message says which and what to do."""


def resolve_source(
    source: Mapping[str, Any], search_dirs: Sequence[PathLike], download_dir: PathLike, name: str
) -> Path:
    """The local file for a dataset's ``source`` config mapping.

    Either ``path`` (a file of the user's own, relative to the working directory; checked
    against ``sha256`` when one is given), or ``sha256`` with an optional ``url`` and an
    optional ``size`` hint, located or downloaded by ``locate_source``.
    """
    unknown = sorted(set(source) - set(SOURCE_KEYS))
    if unknown:
        raise CorpusError(
            f"dataset {name!r}: unknown source key(s) {unknown}; allowed: {list(SOURCE_KEYS)}"
        )
    sha256, url, path = source.get("sha256"), source.get("url"), source.get("path")
    if path is not None:
        if url is not None:
            raise CorpusError(
                f"dataset {name!r}: source gives both 'path' and 'url'; keep 'path' for a file "
                "of your own, or 'sha256' + 'url' for a published corpus"
            )
        return _checked_own_file(Path(path), sha256, name)
    if sha256 is None:
        raise CorpusError(
            f"dataset {name!r}: source needs 'sha256' (plus an optional 'url') to find the "
            "corpus by checksum, or 'path' to a text file of your own"
        )
    return locate_source(sha256, url, search_dirs, download_dir, name=name, size=source.get("size"))


def locate_source(
    sha256: str,
    url: str | None,
    search_dirs: Sequence[PathLike],
    download_dir: PathLike,
    *,
    name: str,
    size: int | None = None,
) -> Path:
    """A local file with checksum ``sha256``, downloaded from ``url`` only if none matches.

    Files directly in the search directories (not recursive) are hashed, a file named like
    the URL's basename first; ``size``, when known, skips files of any other size unhashed.
    """
    expected = _checked_sha256(sha256, name)
    directories = _search_directories(search_dirs, download_dir)
    preferred_name = _url_basename(url) if url else None
    found = _find_by_checksum(expected, directories, preferred_name, size, name)
    if found is not None:
        logger.info("dataset %s: using %s (sha256 %s)", name, found, expected)
        return found
    where = ", ".join(str(d) for d in directories)
    if url is None:
        raise CorpusError(
            f"dataset {name!r}: no file with sha256 {expected} in {where}, and no url to "
            f"download it from; put the file in one of these directories or list its "
            f"directory in ${CORPUS_DIRS_ENV}"
        )
    return _download(url, expected, Path(download_dir), name, where)


def read_text_corpus(path: PathLike, newlines: str) -> bytes:
    """The bytes of a text file with line ends kept, or made all ``\\n`` / all ``\\r\\n``.

    Byte-wise, like char-rnn: no decoding, so a BOM or invalid UTF-8 is data, not an error.
    """
    if newlines not in NEWLINE_MODES:
        raise CorpusError(
            f"corpus option newlines={newlines!r} for {path}; use one of {list(NEWLINE_MODES)}"
        )
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read corpus file {path}: {error.strerror}") from error
    if newlines == "keep":
        return data
    lf = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return lf if newlines == "lf" else lf.replace(b"\n", b"\r\n")


@dataclass(frozen=True)
class CorpusFile:
    """One source file's part of a corpus: its path, where it starts and how many bytes."""

    path: str
    offset: int
    bytes: int


@dataclass(frozen=True)
class KernelFilter:
    """Which ``.c``/``.h`` files of a kernel tree may enter the draw: generated files (a
    modern kernel's register headers of megabytes) are dropped before the shuffle, so that
    the corpus describes code rather than one file.

    ``max_file_bytes``: a larger file is dropped (None: no limit). ``exclude``: shell-style
    globs (``fnmatch``, where ``*`` also matches ``/``) on the file's ``tree_path``, such as
    ``*/asic_reg/*``. The default drops nothing.
    """

    max_file_bytes: int | None = None
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.max_file_bytes is not None or bool(self.exclude)

    def reason_to_drop(self, path: str, size: int) -> str | None:
        """Why the file at ``path`` (a ``tree_path``) of ``size`` bytes is dropped, or None."""
        for pattern in self.exclude:
            if fnmatch.fnmatchcase(path, pattern):
                return f"exclude {pattern}"
        if self.max_file_bytes is not None and size > self.max_file_bytes:
            return "max_file_bytes"
        return None


@dataclass(frozen=True)
class DroppedFile:
    """A source file the kernel filter kept out of the draw, and why."""

    path: str
    bytes: int
    reason: str


@dataclass(frozen=True)
class Corpus:
    """A corpus's bytes and the files they came from, in order; for a filtered kernel
    corpus, the filter and the files it dropped (in archive order)."""

    data: bytes
    files: tuple[CorpusFile, ...]
    kernel_filter: KernelFilter = field(default_factory=KernelFilter)
    dropped: tuple[DroppedFile, ...] = ()

    def files_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(file) for file in self.files]

    def filter_record(self) -> dict[str, Any] | None:
        """The filter's options and what it dropped, for ``corpus.json``; None without one."""
        if not self.kernel_filter.active:
            return None
        return {
            "max_file_bytes": self.kernel_filter.max_file_bytes,
            "exclude": list(self.kernel_filter.exclude),
            "dropped_files": len(self.dropped),
            "dropped_bytes": sum(file.bytes for file in self.dropped),
            "dropped": [asdict(file) for file in self.dropped],
        }


def tree_path(member_name: str) -> str:
    """A tarball member's path inside the source tree: the top directory (``linux-6.1/``)
    removed, so a file has the same path in the full tarball and in a subset."""
    parts = [part for part in PurePosixPath(member_name).parts if part != "/"]
    return "/".join(parts[1:]) if len(parts) > 1 else "/".join(parts)


def kernel_file_key(seed: int, member_name: str) -> str:
    """Sort key of a tarball member in the seeded shuffle: sha256 of ``"{seed}:{path}"``,
    ``path`` its ``tree_path``."""
    return hashlib.sha256(f"{seed}:{tree_path(member_name)}".encode()).hexdigest()


def build_kernel_corpus(
    tarball: PathLike, max_bytes: int, seed: int, kernel_filter: KernelFilter | None = None
) -> bytes:
    """The bytes of ``read_kernel_corpus``."""
    return read_kernel_corpus(tarball, max_bytes, seed, kernel_filter).data


def read_kernel_corpus(
    tarball: PathLike, max_bytes: int, seed: int, kernel_filter: KernelFilter | None = None
) -> Corpus:
    """Every regular ``.c``/``.h`` file of a kernel tarball, shuffled, concatenated, cut.

    The shuffle is the order of ``kernel_file_key(seed, member)``: a seeded permutation that
    does not depend on the member order in the archive. One streaming pass over the archive
    (compression detected from its content) keeps only the files with the smallest keys whose
    sizes still add up to ``max_bytes`` (see ``_SmallestKeyFiles``), so a 1.3 GB kernel tree
    needs about ``max_bytes`` of memory. At the end the kept files are concatenated in key
    order and cut inside the last one. Symlinks, directories and other files are skipped, and
    so are the files ``kernel_filter`` drops, before the shuffle: the draw is the one the
    remaining files give with the same seed.
    """
    kernel_filter = kernel_filter or KernelFilter()
    dropped: list[DroppedFile] = []
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise CorpusError(f"max_bytes for {tarball} must be a positive integer, not {max_bytes!r}")
    kept = _SmallestKeyFiles(max_bytes)
    scanned = sources = source_bytes = 0
    try:
        with tarfile.open(tarball, mode="r|*") as archive:
            for member in archive:
                scanned += 1
                if scanned % _PROGRESS_EVERY_MEMBERS == 0:
                    logger.info("%s: %d members scanned, %d .c/.h files", tarball, scanned, sources)
                if not member.isreg() or not member.name.endswith(KERNEL_SOURCE_SUFFIXES):
                    continue
                reason = kernel_filter.reason_to_drop(tree_path(member.name), member.size)
                if reason is not None:
                    dropped.append(DroppedFile(tree_path(member.name), member.size, reason))
                    continue
                sources += 1
                source_bytes += member.size
                key = kernel_file_key(seed, member.name)
                if kept.wants(key):
                    handle = archive.extractfile(member)
                    assert handle is not None  # regular members always have content
                    kept.add(key, handle.read(), tree_path(member.name))
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as error:
        raise CorpusError(
            f"cannot read {tarball} as a (.gz/.xz/.bz2 compressed) tar archive: {error}; "
            "point the dataset at a kernel source tarball"
        ) from error
    if sources == 0:
        filtered = f", {len(dropped)} dropped by the filter" if dropped else ""
        raise CorpusError(
            f"{tarball} holds no regular .c/.h files ({scanned} members{filtered}); "
            "point the dataset at a Linux kernel source tarball"
            + (" or loosen max_file_bytes / exclude" if dropped else "")
        )
    if source_bytes < max_bytes:
        logger.warning(
            "%s: its %d .c/.h files hold only %d bytes, less than max_bytes=%d; using them all",
            tarball,
            sources,
            source_bytes,
            max_bytes,
        )
    files, offset = [], 0
    for path, content in kept.files_in_key_order():
        if offset >= max_bytes:
            break
        files.append(CorpusFile(path, offset, min(len(content), max_bytes - offset)))
        offset += files[-1].bytes
    corpus = b"".join(kept.contents_in_key_order())[:max_bytes]
    logger.info(
        "%s: %d members, %d .c/.h files (%d bytes); corpus of %d bytes from %d files",
        tarball,
        scanned,
        sources,
        source_bytes,
        len(corpus),
        len(files),
    )
    if kernel_filter.active:
        logger.info(
            "%s: the filter (%s) dropped %d .c/.h files (%d bytes) before the shuffle",
            tarball,
            kernel_filter,
            len(dropped),
            sum(file.bytes for file in dropped),
        )
    return Corpus(corpus, tuple(files), kernel_filter, tuple(dropped))


def build_corpus(spec: Mapping[str, Any], source_path: Path) -> bytes:
    """The bytes of ``make_corpus``."""
    return make_corpus(spec, source_path).data


def make_corpus(spec: Mapping[str, Any], source_path: Path) -> Corpus:
    """A dataset's corpus from its source file, by ``spec["kind"]``, with the files it holds.

    ``text``: ``newlines`` (default ``keep``) and an optional ``max_bytes`` prefix cut; one
    file. ``kernel_tarball``: ``max_bytes`` and ``shuffle_seed`` (see ``read_kernel_corpus``),
    and the optional filter ``max_file_bytes`` / ``exclude`` (``KernelFilter``).
    """
    kind = spec.get("kind")
    if kind != "kernel_tarball" and any(spec.get(key) for key in KERNEL_FILTER_KEYS):
        raise CorpusError(
            f"corpus options {list(KERNEL_FILTER_KEYS)} for {source_path} filter the files of "
            f"a kernel_tarball dataset; remove them from this {kind!r} dataset"
        )
    if kind == "text":
        data = read_text_corpus(source_path, spec.get("newlines", "keep"))
        if spec.get("max_bytes") is not None:
            data = data[: _spec_int(spec, "max_bytes", source_path, minimum=1)]
        corpus = Corpus(data, (CorpusFile(Path(source_path).name, 0, len(data)),))
    elif kind == "kernel_tarball":
        corpus = read_kernel_corpus(
            source_path,
            _spec_int(spec, "max_bytes", source_path, minimum=1),
            _spec_int(spec, "shuffle_seed", source_path, minimum=0),
            kernel_filter_of(spec, source_path),
        )
    else:
        raise CorpusError(
            f"corpus kind {kind!r} for {source_path} is unknown; use 'text' or 'kernel_tarball'"
        )
    if not corpus.data:
        raise CorpusError(f"corpus built from {source_path} is empty; use a non-empty file")
    return corpus


#: A kernel dataset's filter options (``KernelFilter``).
KERNEL_FILTER_KEYS = ("max_file_bytes", "exclude")


def kernel_filter_of(spec: Mapping[str, Any], source_path: Path) -> KernelFilter:
    """The ``KernelFilter`` a dataset's config asks for (none when both options are absent)."""
    limit = spec.get("max_file_bytes")
    if limit is not None:
        limit = _spec_int(spec, "max_file_bytes", source_path, minimum=1)
    exclude = spec.get("exclude") or []
    if isinstance(exclude, str) or not all(isinstance(p, str) and p for p in exclude):
        raise CorpusError(
            f"corpus option 'exclude' for {source_path} must be a list of path globs such as "
            f"['*/asic_reg/*'], not {exclude!r}"
        )
    return KernelFilter(limit, tuple(exclude))


#: Columns of ``tables/corpus_files.csv``: ``dropped`` is why the kernel filter dropped a
#: file before the shuffle (empty for the corpus's files, which alone have an offset, a share
#: and splits).
CORPUS_FILE_COLUMNS = ("path", "offset", "bytes", "share", "splits", "dropped")


def corpus_file_rows(
    files: Sequence[Mapping[str, Any]],
    bounds: Sequence[tuple[int, int]],
    split_names: Sequence[str],
    dropped: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Every file of a corpus with its share of it and the split(s) its bytes fall in, then
    the files the kernel filter dropped (``DroppedFile`` dicts, from ``corpus.json``).

    ``files`` are ``CorpusFile`` dicts in corpus order; ``bounds`` the [start, stop) of each
    split. A file listed under two splits straddles a boundary.
    """
    total = sum(file["bytes"] for file in files)
    rows = []
    for file in files:
        start, stop = file["offset"], file["offset"] + file["bytes"]
        splits = [
            name
            for (low, high), name in zip(bounds, split_names, strict=True)
            if start < high and low < stop
        ]
        rows.append(
            {
                "path": file["path"],
                "offset": start,
                "bytes": stop - start,
                "share": round((stop - start) / total, 6) if total else 0.0,
                "splits": ",".join(splits),
                "dropped": "",
            }
        )
    rows += [
        {
            "path": file["path"],
            "offset": None,
            "bytes": file["bytes"],
            "share": 0.0,
            "splits": "",
            "dropped": file["reason"],
        }
        for file in dropped
    ]
    return rows


def corpus_files_kept(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows of ``corpus_files.csv`` that are in the corpus: those in a split (a file the
    filter dropped is in none)."""
    return [row for row in rows if row["splits"]]


def corpus_file_warnings(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Warnings about a many-file corpus: a file holding more than ``DOMINANT_FILE_SHARE`` of
    it (its numbers then describe that file), and files straddling a split boundary."""
    found = [
        f"{row['path']} holds {100 * row['share']:.1f}% of the corpus (over "
        f"{100 * DOMINANT_FILE_SHARE:g}%): the model and n-gram numbers describe it more than "
        "the rest; see tables/corpus_files.csv, or try another shuffle_seed or source"
        for row in rows
        if row["share"] > DOMINANT_FILE_SHARE
    ]
    found += [
        f"{row['path']} ({row['bytes']:,} bytes) straddles a split boundary: it is in "
        f"{row['splits'].replace(',', ' and ')}"
        for row in rows
        if "," in row["splits"]
    ]
    return found


class _SmallestKeyFiles:
    """The files with the smallest keys whose sizes, together, still cover ``max_bytes``.

    A max-heap on the key. A file is worth reading only while the held files fall short of
    ``max_bytes`` or its key is below the largest held; after each addition the largest keys
    are dropped while the rest still cover ``max_bytes``. Memory stays below ``max_bytes``
    plus one file, however large the archive.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held_bytes = 0
        self._heap: list[tuple[int, str, str, bytes]] = []  # (-key number, key, name, content)

    @property
    def count(self) -> int:
        return len(self._heap)

    def wants(self, key: str) -> bool:
        return self.held_bytes < self.max_bytes or key < self._heap[0][1]

    def add(self, key: str, content: bytes, name: str = "") -> None:
        heapq.heappush(self._heap, (-int(key, 16), key, name, content))
        self.held_bytes += len(content)
        while self.held_bytes - len(self._heap[0][3]) >= self.max_bytes:
            dropped = heapq.heappop(self._heap)[3]
            self.held_bytes -= len(dropped)

    def files_in_key_order(self) -> list[tuple[str, bytes]]:
        """(name, content) of the kept files, in key order."""
        return [(name, content) for _, _, name, content in sorted(self._heap, key=lambda e: e[1])]

    def contents_in_key_order(self) -> list[bytes]:
        return [content for _, content in self.files_in_key_order()]


def _checked_sha256(sha256: object, name: str) -> str:
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise CorpusError(
            f"dataset {name!r}: source sha256 {sha256!r} is not 64 hex digits; "
            "copy it from the corpus's listing (sha256sum FILE)"
        )
    return sha256.lower()


def _checked_own_file(path: Path, sha256: object, name: str) -> Path:
    """A user's own corpus file, verified against ``sha256`` when the config gives one."""
    if not path.is_file():
        raise CorpusError(
            f"dataset {name!r}: source path {path} is not a file (relative paths are taken "
            f"from the working directory {Path.cwd()}); fix 'path'"
        )
    if sha256 is not None:
        expected = _checked_sha256(sha256, name)
        actual = sha256_file(path)
        if actual != expected:
            raise CorpusError(
                f"dataset {name!r}: {path} has sha256 {actual}, but the config expects "
                f"{expected}; use the right file, fix 'sha256', or set it to null"
            )
    return path


def _search_directories(search_dirs: Sequence[PathLike], download_dir: PathLike) -> list[Path]:
    """Config directories, then ``$VISRNN_CORPUS_DIRS``, then the download directory, once each."""
    from_env = [d for d in os.environ.get(CORPUS_DIRS_ENV, "").split(os.pathsep) if d]
    directories: list[Path] = []
    for directory in [*search_dirs, *from_env, download_dir]:
        path = Path(directory).expanduser()
        if path not in directories:
            directories.append(path)
    return directories


def _find_by_checksum(
    expected: str,
    directories: Sequence[Path],
    preferred_name: str | None,
    size: int | None,
    name: str,
) -> Path | None:
    candidates: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            logger.debug("dataset %s: search directory %s does not exist; skipped", name, directory)
            continue
        try:
            entries = sorted(directory.iterdir())
        except OSError as error:
            logger.warning("dataset %s: cannot list %s (%s); skipped", name, directory, error)
            continue
        candidates += [e for e in entries if not e.name.startswith(".") and e.is_file()]
    candidates.sort(key=lambda path: path.name != preferred_name)  # stable: keeps search order
    for candidate in candidates:
        stat = candidate.stat()
        if stat.st_size == 0 or (size is not None and stat.st_size != size):
            continue
        cache_key = (str(candidate.resolve()), stat.st_size, stat.st_mtime_ns)
        if cache_key not in _HASH_CACHE:
            logger.debug("dataset %s: hashing %s", name, candidate)
            _HASH_CACHE[cache_key] = sha256_file(candidate)
        if _HASH_CACHE[cache_key] == expected:
            return candidate
    return None


def _url_basename(url: str) -> str:
    return PurePosixPath(urllib.parse.urlparse(url).path).name


def _download(url: str, expected: str, download_dir: Path, name: str, searched: str) -> Path:
    """Fetch ``url`` into ``download_dir`` through a temporary file kept only if it verifies."""
    target = download_dir / (_url_basename(url) or f"{name}-{expected[:12]}")
    logger.info("dataset %s: no local copy of sha256 %s; downloading %s", name, expected, url)
    with atomic_path(target) as tmp:
        received, announced = _stream_to_file(url, tmp, name, searched)
        actual = sha256_file(tmp)
        if actual != expected:
            truncated = (
                f" (truncated: {received} of {announced} bytes)"
                if announced is not None and received < announced
                else ""
            )
            raise CorpusError(
                f"dataset {name!r}: download of {url} has sha256 {actual}, expected "
                f"{expected}{truncated}; nothing was kept. Retry, or put a verified copy "
                f"in one of: {searched}"
            )
    logger.info("dataset %s: downloaded %s (%d bytes)", name, target, received)
    return target


def _stream_to_file(url: str, path: Path, name: str, searched: str) -> tuple[int, int | None]:
    """Copy ``url`` into ``path`` block by block, logging every ~10%; (received, announced)."""
    received = 0
    try:
        with (
            urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
            path.open("wb") as handle,
        ):
            length = response.headers.get("Content-Length")
            announced = int(length) if length and length.isdigit() else None
            step = max(announced // 10, 1) if announced else 10 * _BLOCK
            next_report = step
            while block := response.read(_BLOCK):
                handle.write(block)
                received += len(block)
                if received >= next_report:
                    total = f" of {announced}" if announced else ""
                    logger.info("dataset %s: %d%s bytes of %s", name, received, total, url)
                    next_report += step * ((received - next_report) // step + 1)
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise CorpusError(
            f"dataset {name!r}: could not download {url}: {reason}. Without network access, "
            f"put a copy of the file (sha256 in the config) in one of: {searched}, or list "
            f"its directory in ${CORPUS_DIRS_ENV}"
        ) from error
    return received, announced


def _spec_int(spec: Mapping[str, Any], key: str, source_path: Path, *, minimum: int) -> int:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CorpusError(
            f"corpus option {key!r} for {source_path} must be an integer >= {minimum}, "
            f"not {value!r}; set it in the dataset's config"
        )
    return value
