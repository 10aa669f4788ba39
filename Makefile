# The README's commands. Each target sets up its own virtual environment first (.venv, from
# pyproject.toml), so a fresh clone needs nothing but python3 (>= 3.11) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run report test lint browser bench viz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -c 'import model.voting; model.voting.compile_kernels()'  # numba's cache, once
	touch $(STAMP)

setup: $(STAMP)

## The interactive page's extra (Solara and what it serves the page with), on top: only make viz and
## make test need it, so make report does not spend its minutes installing a web server.
VIZ_STAMP := $(VENV)/.viz-stamp
$(VIZ_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,viz]'
	touch $(VIZ_STAMP)

## report: the main job — run the default study (resumes if interrupted) and write reports/index.html.
## The study is three sweeps: the token network and the tokenless federation side by side, then
## each regime's map (token: slash fraction x emission; tokenless: service fee x ejection strikes).
STUDY_SWEEPS := study-regimes study study-tokenless
report: $(STAMP)
	for name in $(STUDY_SWEEPS); do \
		$(BIN)/fedstake sweep scenarios/$$name.toml --out results/$$name || exit 1; \
	done
	$(BIN)/fedstake report $(addprefix results/,$(STUDY_SWEEPS)) -o reports/index.html

## run: run scenarios/baseline.toml and print the per-strategy summary
run: $(STAMP)
	$(BIN)/fedstake run scenarios/baseline.toml

## viz: the interactive page of scenarios/baseline.toml on http://localhost:8765 (Ctrl-C stops it);
## another scenario: make viz SCENARIO=scenarios/death-spiral.toml
SCENARIO ?= scenarios/baseline.toml
viz: $(VIZ_STAMP)
	$(BIN)/fedstake viz $(SCENARIO)

## test: the linter, then every test (the report tests need Debian's chromium: installed if missing)
test: lint browser $(VIZ_STAMP)
	$(BIN)/python -m pytest

browser:
	bash .ci/install-browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: the benchmarks under bench/ (prints figures; not part of the tests)
bench: $(STAMP)
	$(BIN)/python bench/bench_model.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
