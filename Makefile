# Two commands on a fresh machine: `make demo` and `make test`. `make bench` measures speed.
SHELL := /bin/bash
# The first Python >= 3.12 on PATH (pyenv's shims honour .python-version).
PYTHON ?= $(shell for p in python3.12 python3.13 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench bench-sweep install params-doc calibration-doc priors-doc clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.12 not found (install it, or set PYTHON=...)"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[train,dev]'
	@touch $(STAMP)

# One baseline run, then a small baseline forecast report (100 prior draws, ~15 s): open
# out/demo/report.html in a browser (offline); out/demo/png/ holds the figures for slides.
demo: $(STAMP)
	$(BIN)/ixsim run baseline --out out/baseline
	$(BIN)/ixsim report baseline --draws 100 --out out/demo/report.html --png-dir out/demo/png
	@echo "report: $(CURDIR)/out/demo/report.html (figures in out/demo/png/)"

test: $(STAMP)
	$(BIN)/python -m pytest -n auto

# AGAINST=REV also times that revision's code in the same run (ratio new/old); default HEAD~1.
AGAINST ?= HEAD~1
bench: $(STAMP)
	$(BIN)/python benchmarks/run_bench.py --against $(AGAINST)

# A 10,000-run sweep, its parallel efficiency, a query over it and the shipped forecast (~4 min).
bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/sweep_bench.py

params-doc: $(STAMP)
	$(BIN)/ixsim params --markdown > docs/parameters.md.tmp && mv docs/parameters.md.tmp docs/parameters.md

# docs/calibration.md is rendered from data/calibration.toml and data/observations.csv.
calibration-doc: $(STAMP)
	$(BIN)/python -c "import sys; from ixsim.sim.sources import render_markdown; sys.stdout.write(render_markdown())" > docs/calibration.md.tmp && mv docs/calibration.md.tmp docs/calibration.md

# docs/priors.md is rendered from data/priors.toml (the uncertainty catalogue).
priors-doc: $(STAMP)
	$(BIN)/python -c "import sys; from ixsim.analysis.priors import render_markdown; sys.stdout.write(render_markdown())" > docs/priors.md.tmp && mv docs/priors.md.tmp docs/priors.md

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
