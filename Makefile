# thredfi-async: every task a maintainer or CI runs. Each target sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.runtime

.PHONY: install check-python check-node redis-server generate drift lint typecheck docs test demo bench bench-smoke contract package spec-update spec-drift clean

NODE_STAMP := node_modules/.installed

install: $(STAMP) $(NODE_STAMP) redis-server

## Say what is wrong before pip or npm fail obscurely (an old Python hangs in pip's resolver).
check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "thredfi-async needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo not found)."; \
	  echo "Install one (Debian: apt-get install python3.11) and run: make PYTHON=python3.11 ..."; \
	  exit 1; }

## Prism's package declares Node >= 24.18 but runs on 20, where the contract tests pass.
NODE_MIN := 20
check-node:
	@command -v node >/dev/null || { echo "make test needs Node.js $(NODE_MIN)+ (Prism, pyright): apt-get install nodejs npm"; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MIN) ? 0 : 1)' || { \
	  echo "make test needs Node.js $(NODE_MIN)+ (Prism, pyright); found $$(node --version)."; exit 1; }

$(STAMP): pyproject.toml | check-python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME_STAMP)

## What the demo needs and no more (the SDK and the fake API), so a fresh clone runs it fast.
$(RUNTIME_STAMP): pyproject.toml | check-python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[testing]'
	touch $(RUNTIME_STAMP)

## The real Redis the tests of thredfi_async.redis start on a loopback port (tests/_redis.py):
## Debian's redis-server, installed when missing (as root, else through sudo).
redis-server:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  { [ "$$SUDO" != none ] && command -v apt-get >/dev/null && echo "installing redis-server (Debian package) for the Redis tests" \
	    && $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; } \
	  || { echo "make test needs redis-server (Redis 6.2+) on PATH and could not install it."; \
	       echo "Install it yourself (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), then run make again."; exit 1; }; }

## Prism (the contract tests' mock server) and pyright (tests/test_typing_bodies.py), pinned in
## package-lock.json, into ./node_modules.
## --ignore-scripts: neither needs an install script; a Prism dependency's one only reports telemetry.
$(NODE_STAMP): package-lock.json | check-node
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
	$(VENV)/bin/mypy tests codegen benchmarks examples  # as strict: they are code users read too

## The documentation site into site/: the README's sections, docs/ and the API reference from
## the docstrings (mkdocs.yml, docsite/). --strict: a broken link or reference fails the build.
## NO_MKDOCS_2_WARNING: Material's banner about its end of life, printed on every build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

## The test command (README): unit, scenario and contract tests.
test: install
	$(PY) -m coverage erase
	$(PY) -m coverage run -m pytest -q
	$(PY) -m coverage combine -q  # the subprocesses' measurements with this run's
	$(PY) -m coverage report  # branch coverage of the overlay; fails under the floor in pyproject.toml

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

## The wheel and sdist as PyPI would take them: built, checked by twine, the sdist test-free.
package: install
	rm -rf dist
	$(PY) -m build --outdir dist
	$(PY) -m twine check --strict dist/*
	! tar tzf dist/*.tar.gz | grep -E '/(tests|benchmarks)/'

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build dist site *.egg-info
