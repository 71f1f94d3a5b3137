# thredfi-async: every task a maintainer or CI runs. Each target sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.runtime

.PHONY: install generate drift lint typecheck docs test test-unit demo bench bench-smoke contract spec-update spec-drift clean

NODE_STAMP := node_modules/.installed

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME_STAMP)

## What the demo needs and no more (the SDK and the fake API), so a fresh clone runs it fast.
$(RUNTIME_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[testing]'
	touch $(RUNTIME_STAMP)

## Prism (the contract tests' mock server) and pyright (tests/test_typing_bodies.py), pinned in
## package-lock.json, into ./node_modules.
## --ignore-scripts: neither needs an install script; a Prism dependency's one only reports telemetry.
$(NODE_STAMP): package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

## Regenerate thredfi_async/_generated/ and docs/operations.md from openapi.yaml + codegen/.
generate: install
	$(PY) codegen/generate.py

## Fail if the committed generated code is not what `make generate` would write.
drift: install
	$(PY) codegen/drift.py

## Compare the published spec with openapi.yaml (SPEC_URL overrides the source).
SPEC_URL ?= https://docs.thredfi.com/openapi.yaml
spec-drift: install
	$(PY) codegen/drift.py --spec $(SPEC_URL)

## Download the published spec over openapi.yaml; review the diff, then `make generate`.
spec-update: install
	$(PY) -c "import httpx, pathlib; r = httpx.get('$(SPEC_URL)', timeout=30, follow_redirects=True); r.raise_for_status(); pathlib.Path('openapi.yaml').write_bytes(r.content)"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict docsite  # the docs site's hooks (not part of the package)

## The documentation site into site/: the README's sections, docs/ and the API reference from
## the docstrings (mkdocs.yml, docsite/). --strict: a broken link or reference fails the build.
## NO_MKDOCS_2_WARNING: Material's banner about its end of life, printed on every build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

## The test command (README): unit, scenario and contract tests.
test: install
	$(PY) -m pytest -q

## Only the contract tests: every operation against a Prism mock of the (patched) spec.
contract: install
	$(PY) -m pytest -q tests/contract

## The main job: the end-to-end demo against the embedded fake API (or the sandbox when
## THREDFI_PARTNER_UUID and THREDFI_API_KEY are set).
demo: $(RUNTIME_STAMP)
	$(PY) -m examples.demo

bench: install
	$(PY) -m benchmarks

bench-smoke: install
	$(PY) -m benchmarks --smoke

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build dist site *.egg-info
