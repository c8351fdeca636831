# The run against the paper: one row per claim the tables can check, with a verdict.


rule scorecard:
    input:
        get_scorecard_inputs,
        code=code("scorecard"),
    output:
        table=in_report("results/scorecard.csv", "scorecard", per_dataset=False),
        markdown=in_report("results/scorecard.md", "scorecard", per_dataset=False),
    log:
        "results/logs/scorecard.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        tables=plan.scorecard_tables(config),
        config=plan.scorecard_config(config),
    script:
        "../scripts/scorecard.py"


rule best_models:
    input:
        test_losses="results/{ds}/tables/test_losses.csv",
        baselines="results/{ds}/tables/baselines.csv",
        code=code("best_models"),
    output:
        in_report("results/{ds}/tables/best_models.csv", "scorecard"),
    log:
        "results/{ds}/logs/best_models.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/best_models.py"
