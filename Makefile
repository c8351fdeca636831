# The README's two set-up commands, and the CPU showcase:
#   make demo   - install everything, then run the demo preset (whole DAG, CPU, minutes)
#   make showcase - the CPU showcase: the paper's whole recipe at its smallest budget, WP and LK
#   make showcase-130k - one budget up on War and Peace: LSTM and RNN at 2 layers, test losses
#   make test   - install everything, then run the fast tier of the tests (minutes)
#   make test-e2e - the end-to-end tier alone: the demo DAG, faults, SLURM, the browser
#   make test-all - both tiers (what .ci/run runs)
# Everything lands in .venv: pinned requirements, torch==2.13.0, and KenLM built with
# KENLM_MAX_ORDER=21 (module and lmplz/build_binary; Boost comes from apt).

PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo showcase showcase-130k paper test test-e2e test-all lint clean-demo explore

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml scripts/install_kenlm.sh scripts/install_chromium.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	bash scripts/install_kenlm.sh $(VENV)
	bash scripts/install_chromium.sh
	touch $@

# Runs the demo, builds its report (.test/report.zip), then says what was made and where.
demo: $(STAMP)
	$(BIN)/snakemake --directory .test --cores $(CORES) --printshellcmds
	$(BIN)/snakemake --directory .test --report report.zip
	@echo
	@$(BIN)/visrnn summary .test/results
	@echo "(the commands above are in $(BIN); activate it with: source $(BIN)/activate)"

# The CPU showcase (showcase/config.yaml): the paper's whole recipe at its smallest budget on
# War and Peace and the shipped Linux files (docs/showcase/README.md has its time).
showcase: $(STAMP)
	$(BIN)/snakemake --directory showcase --cores $(CORES) --printshellcmds
	$(BIN)/snakemake --directory showcase --report report.zip
	@echo
	@$(BIN)/visrnn summary showcase/results

# One budget up (showcase/budget-130k/config.yaml): does the types' ordering appear with size?
showcase-130k: $(STAMP)
	$(BIN)/snakemake --directory showcase/budget-130k --cores $(CORES) --printshellcmds \
		results/wp/tables/test_losses.csv

paper: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --resources gpu=$(or $(GPUS),0)

# The explorer on the demo's results (make demo first): http://127.0.0.1:8000/
explore: $(STAMP)
	$(BIN)/visrnn explore .test/results --port $(or $(PORT),8000)

# Two tiers (pyproject.toml's markers): unmarked tests are the fast tier; those marked e2e run
# the demo DAG through Snakemake, inject faults into it, start a SLURM cluster or drive a
# browser (several minutes to a quarter of an hour on 2 cores).
test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -m "not e2e"; status=$$?; \
	echo "make test ran the fast tier; the end-to-end tier (demo DAG, faults, SLURM, browser):"; \
	echo "  make test-e2e    (both tiers: make test-all)"; \
	exit $$status

test-e2e: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -m e2e

test-all: test test-e2e

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/ruff format --check src tests workflow/scripts benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --directory .test
	$(BIN)/snakemake --lint --directory .test --profile profiles/slurm

clean-demo:
	rm -rf .test/results .test/.snakemake .test/report.zip

# The README's rule graph: docs/rulegraph.dot from snakemake --rulegraph (config.yaml) and
# docs/rulegraph.svg drawn from it (needs graphviz's dot). Rerun after changing the rules:
# tests/test_docs.py fails until both files match the workflow.
.PHONY: rulegraph
rulegraph: $(STAMP)
	$(BIN)/python scripts/rulegraph.py
