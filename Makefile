# backpain-cds — two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck bench bench-smoke migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p instance
	BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1 $(BIN)/backpain-cds db upgrade
	BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1 $(BIN)/backpain-cds serve --bind 127.0.0.1:8080

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check service cds_rules tests benchmarks
	$(BIN)/mypy

migrate: $(STAMP)
	$(BIN)/backpain-cds db upgrade

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --full

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
