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


rule best_models:
    input:
        test_losses="results/{ds}/tables/test_losses.csv",
        baselines="results/{ds}/tables/baselines.csv",
        code=code("best_models"),
    output:
        report(
            "results/{ds}/tables/best_models.csv",
            caption="../report/tables/best_models.rst",
            category="Scorecard: this run against the paper",
            subcategory="{ds}",
        ),
    log:
        "results/{ds}/logs/best_models.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/best_models.py"
