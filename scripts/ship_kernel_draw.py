"""Ship a kernel corpus draw with the repository: the filtered tree's files with the smallest
shuffle keys, as many as fit a size limit once xz-compressed, with the kernel's licence.

A dataset pointed at the result (``kind: kernel_tarball``, the same ``shuffle_seed`` and
filter, ``max_bytes`` at most the files' total) builds the same corpus as from the full tree:
the shuffle key depends only on a file's path in the tree and the seed, so the shipped files
are exactly the first ones of the full tree's draw.

    python scripts/ship_kernel_draw.py /usr/src/linux-source-6.1.tar.xz \\
        showcase/data/linux-6.1-showcase.tar.xz --seed 2015 --max-file-bytes 300000 \\
        --exclude '*/asic_reg/*' --limit 2000000
"""

from __future__ import annotations

import argparse
import io
import logging
import lzma
import tarfile
from pathlib import Path

from visrnn.data.corpora import KernelFilter, read_kernel_corpus, tree_path

#: Licence files of the tree shipped beside the sources (GPL-2.0, as the demo's draw).
LICENCE_FILES = ("COPYING", "LICENSES/preferred/GPL-2.0", "LICENSES/exceptions/Linux-syscall-note")
#: Fixed member metadata, so that the same draw always gives the same bytes (and sha256).
MTIME = 1_670_000_000  # 2022-12-02, near Linux 6.1's release


def licence_files(tarball: Path) -> dict[str, bytes]:
    """The tree's licence files by path in the tree (one streaming pass)."""
    found: dict[str, bytes] = {}
    with tarfile.open(tarball, mode="r|*") as archive:
        for member in archive:
            path = tree_path(member.name)
            if member.isreg() and path in LICENCE_FILES:
                handle = archive.extractfile(member)
                assert handle is not None
                found[path] = handle.read()
    missing = sorted(set(LICENCE_FILES) - set(found))
    if missing:
        raise SystemExit(f"{tarball} lacks {missing}; is it a Linux source tarball?")
    return found


def tar_xz(files: dict[str, bytes], top: str) -> bytes:
    """A reproducible .tar.xz of ``files`` (path in the tree -> content) under ``top/``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for path in sorted(files):
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mtime, info.mode = len(files[path]), MTIME, 0o644
            info.uname = info.gname = "root"
            archive.addfile(info, io.BytesIO(files[path]))
    return lzma.compress(raw.getvalue(), preset=9 | lzma.PRESET_EXTREME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tarball", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--max-file-bytes", type=int)
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--limit", type=int, default=2_000_000, help="compressed bytes")
    parser.add_argument("--scan-bytes", type=int, default=16_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    kernel_filter = KernelFilter(args.max_file_bytes, tuple(args.exclude))
    corpus = read_kernel_corpus(args.tarball, args.scan_bytes, args.seed, kernel_filter)
    # The draw's whole files in key order (the last one of the scan may be cut: not shipped).
    drawn = [f for f in corpus.files if f.offset + f.bytes < len(corpus.data)]
    contents = [(f.path, corpus.data[f.offset : f.offset + f.bytes]) for f in drawn]
    licences = licence_files(args.tarball)
    top = args.output.name.removesuffix(".tar.xz")
    low, high = 1, len(contents)  # the most files whose archive fits the limit
    while low < high:
        middle = (low + high + 1) // 2
        size = len(tar_xz({**licences, **dict(contents[:middle])}, top))
        logging.info("%d files: %d bytes compressed", middle, size)
        low, high = (middle, high) if size <= args.limit else (low, middle - 1)
    if low == len(contents):
        raise SystemExit(f"all {low} scanned files fit {args.limit} bytes: raise --scan-bytes")
    archive = tar_xz({**licences, **dict(contents[:low])}, top)
    args.output.write_bytes(archive)
    logging.info(
        "%s: %d files, %d bytes of .c/.h (%d compressed, licence files included)",
        args.output,
        low,
        sum(len(content) for _, content in contents[:low]),
        len(archive),
    )


if __name__ == "__main__":
    main()
