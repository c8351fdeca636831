"""The scorecard: every claim of the paper the run's tables can check, with its verdict."""

from visrnn.common.files import write_csv
from visrnn.common.runner import script
from visrnn.scorecard import SCORECARD_COLUMNS, Run, scorecard_rows, write_markdown

with script(snakemake) as log:
    # params.tables: dataset -> table name -> path (visrnn.plan.scorecard_tables)
    paths = {
        (ds, name): path
        for ds, tables in snakemake.params.tables.items()
        for name, path in tables.items()
    }
    rows = scorecard_rows(Run.from_paths(snakemake.params.config, paths))
    write_csv(snakemake.output.table, rows, SCORECARD_COLUMNS)
    write_markdown(snakemake.output.markdown, rows)
    for row in rows:
        log.info("%-34s %-15s %s", row["id"], row["verdict"], row["run_value"])
