# The two commands: `make demo` and `make test`. Both set themselves up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two lock groups, both compiled by uv from pyproject.toml (`make lock`):
# requirements.lock (runtime: what the Docker image installs) and requirements-dev.lock
# (the same pins plus the test and lint tools; what .venv gets).
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
export KA_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: demo test install lint format airflow-test bench clean lock

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the locked dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv
	@$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ka-pipeline demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# The nightly DAG for one logical date on the embedded defaults: make airflow-test DATE=2026-11-01
airflow-test: $(STAMP)
	scripts/airflow-dags-test $(or $(DATE),2026-11-01)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

# Re-resolve both locks after a change to pyproject.toml's dependencies.
lock:
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q uv; }
	$(BIN)/uv pip compile -q pyproject.toml --extra deploy --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile -q pyproject.toml --extra deploy --extra dev -c requirements.lock --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) data .airflow
