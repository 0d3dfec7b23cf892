# backpain-cds — two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint typecheck bench bench-smoke migrate clean container-test readme-config lock

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

FHIRSERVER := tests/fhirserver

# The real FHIR server the integration tests start (Medplum, from the committed lockfile).
# Without npm the make goes on: those tests skip locally and fail under CI=true.
$(FHIRSERVER)/node_modules: $(FHIRSERVER)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(FHIRSERVER) && npm ci --no-audit --no-fund && touch node_modules; \
	else echo "npm not found: the FHIR server tests will skip (CI=true: fail)"; fi

# The official FHIR R4 examples (npm hl7.fhir.r4.examples, from the committed lockfile) for
# the record builder's fast-path equivalence test
# (tests/integration/test_record_fast_path_corpora.py).
FHIR_EXAMPLES := tests/fhir_examples
$(FHIR_EXAMPLES)/node_modules: $(FHIR_EXAMPLES)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(FHIR_EXAMPLES) && npm ci --no-audit --no-fund && touch node_modules; \
	else echo "npm not found: the FHIR examples test will skip (CI=true: fail)"; fi

# axe-core for the pages' accessibility test (run inside headless Chromium).
A11Y := tests/a11y
$(A11Y)/node_modules: $(A11Y)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(A11Y) && npm ci --no-audit --no-fund && touch node_modules; \
	else echo "npm not found: the accessibility test will skip (CI=true: fail)"; fi

# Everything. What .ci/run calls. Unit and contract tests (and any test outside the three
# layer directories) run in parallel; the integration tests one at a time, since several
# bound latencies under load (faults, gunicorn) that a parallel neighbour would distort.
test: $(STAMP) $(FHIRSERVER)/node_modules $(A11Y)/node_modules $(FHIR_EXAMPLES)/node_modules
	$(BIN)/pytest -n auto -m "not integration"
	$(BIN)/pytest -m integration

# The fast loop: tests/unit and tests/contract on every core (pytest-xdist); no server started.
test-fast: $(STAMP)
	$(BIN)/pytest -n auto tests/unit tests/contract

lint: $(STAMP)
	$(BIN)/ruff check service cds_rules tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tools.max_lines

# Rewrite README's configuration table from service/config.py (backpain-cds config-doc).
readme-config: $(STAMP)
	$(BIN)/python -c 'import pathlib, re; from service.config import markdown_table; \
	p = pathlib.Path("README.md"); \
	p.write_text(re.sub(r"(<!-- config:start -->\n).*?(\n<!-- config:end -->)", \
	lambda m: m.group(1) + markdown_table() + m.group(2), p.read_text(), flags=re.S))'

# The image's locks (hashes; resolved from PyPI for Python 3.11, the image's and CI's):
# requirements.lock from pyproject.toml's dependencies, and the image build's own tools.
LOCK_ENV := env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null
LOCK_ARGS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--index-url https://pypi.org/simple
lock: $(STAMP)
	$(LOCK_ENV) $(BIN)/pip-compile $(LOCK_ARGS) --output-file requirements.lock pyproject.toml
	$(LOCK_ENV) $(BIN)/pip-compile $(LOCK_ARGS) --output-file deploy/image/build-tools.lock \
		deploy/image/build-tools.in

# Build the image with buildah on an mmdebstrap base and run it (tests/integration/test_container.py runs this).
container-test: $(STAMP)
	PYTHON=$(CURDIR)/$(BIN)/python bash .ci/container-test.sh

migrate: $(STAMP)
	$(BIN)/backpain-cds db upgrade

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --full

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
