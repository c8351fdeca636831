"""The scorecard: every claim of the paper the run's tables can check, with its verdict."""

from visrnn.common.files import write_csv
from visrnn.common.runner import script
from visrnn.scorecard import SCORECARD_COLUMNS, Run, scorecard_rows, write_markdown

with script(snakemake) as log:
    paths = {
        tuple(key.split("__", 1)): path for key, path in snakemake.input.items() if "__" in key
    }
    rows = scorecard_rows(Run.from_paths(snakemake.params.config, paths))
    write_csv(snakemake.output.table, rows, SCORECARD_COLUMNS)
    write_markdown(snakemake.output.markdown, rows)
    for row in rows:
        log.info("%-34s %-15s %s", row["id"], row["verdict"], row["run_value"])
