"""Locate the dataset's source by checksum (or download it) and build the corpus bytes."""

from pathlib import Path

from visrnn.common.files import atomic_path, write_json
from visrnn.common.runner import script
from visrnn.data.corpora import make_corpus, resolve_source
from visrnn.data.splits import corpus_record

with script(snakemake) as log:
    name = snakemake.wildcards.ds
    spec = snakemake.params.spec
    source = resolve_source(
        spec["source"], snakemake.params.search_dirs, snakemake.params.download_dir, name=name
    )
    corpus = make_corpus(spec, source)
    with atomic_path(snakemake.output.corpus) as tmp:
        Path(tmp).write_bytes(corpus.data)
    symbols = len(set(corpus.data))
    write_json(
        snakemake.output.info,
        {
            "dataset": name,
            "source": str(source),
            "symbols": symbols,
            **corpus_record(corpus.data),
            "files": corpus.files_as_dicts(),
            # Only a filtered kernel corpus records a filter (its options, the files dropped).
            **({"filter": record} if (record := corpus.filter_record()) else {}),
        },
    )
    log.info(
        "%s: %d bytes from %d file(s), %d distinct byte values, from %s",
        name,
        len(corpus.data),
        len(corpus.files),
        symbols,
        source,
    )
