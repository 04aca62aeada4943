# Shieldwall: `make run` starts the hub with a demo community; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_PORT ?= 54329
QUICK ?=

.PHONY: install run test lint typecheck bench lock clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

run: install
	$(BIN)/shieldwall serve --demo --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	scripts/ensure-chromium.sh >/dev/null
	SHIELDWALL_TEST_POSTGRES_URL=$$(scripts/ensure-postgres.sh $(PG_PORT) | tail -n 1) \
	  $(BIN)/pytest -n 2 --dist loadgroup

bench: install
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

# Re-pin every dependency after changing pyproject.toml.
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^shieldwall' > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis test-artifacts
