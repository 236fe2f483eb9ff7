# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-deep lint typecheck bench bench-long pacts clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lifecycle-sandbox compare scenarios/provisioning_outage.yaml --patterns sync_chain,hybrid --seed 7

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Test files spread over the machine's cores (a file's tests stay in one worker, so
# its module fixtures are built once); plain `pytest` runs them one after another.
test: lint typecheck
	$(BIN)/pytest -n auto --dist loadfile

# Deep property runs (600 random examples per property), the slow tests, and the
# simulation check on 1,000 seeds of the bundled scenario.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -n auto --dist loadfile -m "slow or not slow"
	$(BIN)/lifecycle-sandbox check scenarios/b2b_saas_quote_to_cash.yaml --seeds 1000

# Regenerate contracts/pacts/ from the consumer tests (real Pact mock server).
pacts: $(STAMP)
	LIFECYCLE_REFRESH_PACTS=1 $(BIN)/pytest -q tests/contracts/test_vendor_pacts.py tests/contracts/test_message_pacts.py

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/events.py
	$(BIN)/python benchmarks/lifecycle.py
	$(BIN)/python benchmarks/gate.py
	$(BIN)/python benchmarks/over_http.py
	$(BIN)/python benchmarks/drills.py
	$(BIN)/python benchmarks/sweep.py

# The month-long run (about 1 million deals; several minutes and a few GB).
bench-long: $(STAMP)
	$(BIN)/python benchmarks/long_run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
