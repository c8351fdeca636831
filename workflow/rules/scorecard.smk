# The run against the paper: one row per claim the tables can check, with a verdict.


rule scorecard:
    input:
        unpack(get_scorecard_tables),
        code=code("scorecard"),
    output:
        table=report(
            "results/scorecard.csv",
            caption="../report/tables/scorecard.rst",
            category="Scorecard: this run against the paper",
        ),
        markdown=report(
            "results/scorecard.md",
            caption="../report/scorecard.rst",
            category="Scorecard: this run against the paper",
        ),
    log:
        "results/logs/scorecard.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        config={
            key: config[key] for key in ("datasets", "grid", "training", "analysis")
        },
    script:
        "../scripts/scorecard.py"
