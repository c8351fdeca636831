#!/usr/bin/env bash
# Snakemake runs this once inside the environment of envs/kenlm.yaml right after creating it
# (--software-deployment-method conda): KenLM built with KENLM_MAX_ORDER=21 (the Python module
# and lmplz/build_binary), with the compiler, cmake and Boost of that environment.
set -euo pipefail
bash "$(dirname "$0")/../scripts/install_kenlm.sh" "$CONDA_PREFIX"
