# visrnn: Karpathy, Johnson & Fei-Fei (2015), "Visualizing and Understanding Recurrent
# Networks", end to end. The paper's experiment:  snakemake --cores 8 --resources gpu=2
# The demo preset:                                snakemake --directory .test --cores 2


from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/seeds.smk"
include: "workflow/rules/scorecard.smk"
include: "workflow/rules/explorer.smk"


rule all:
    default_target: True
    input:
        plan.final_outputs(config),
