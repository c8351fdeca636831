"""The scorecard: every claim of the paper the run's tables can check, with its verdict."""

from visrnn.common.runner import script
from visrnn.scorecard.claims import scorecard_rows
from visrnn.scorecard.render import write_scorecard
from visrnn.scorecard.tables import Run

with script(snakemake) as log:
    rows = scorecard_rows(Run.from_paths(snakemake.params.config, snakemake.params.tables))
    write_scorecard(snakemake.output.table, snakemake.output.markdown, rows)
    for row in rows:
        log.info("%-34s %-15s %s", row["id"], row["verdict"], row["run_value"])
