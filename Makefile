# The single entry point for people and CI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install test test-heavy lint example signatures signatures-check bench corpus clean

install:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "auditor needs Python >= 3.10"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,deep]'
	# Warm the bytecode cache so the first scan (and a pre-commit hook) starts fast.
	$(BIN)/python -m compileall -q auditor
	$(BIN)/auditor --version

# Two workers or more (pytest-xdist): the suite is mostly waiting on subprocesses.
test: lint
	$(BIN)/python -m pytest -q -n auto

# The hostile-input shapes (tests/test_hostile.py), a child process each; CI runs them.
test-heavy:
	$(BIN)/python -m pytest -q -n auto -m heavy tests/test_hostile.py

lint:
	$(BIN)/ruff check auditor tests fixtures bench
	$(BIN)/mypy

# The bundled example with its license texts, taken from the installed ScanCode data.
example:
	@$(BIN)/python fixtures/generate.py --materialize example-model build/example-model >/dev/null
	$(BIN)/auditor scan build/example-model

# Re-derive signatures/ from the installed ScanCode LicenseDB and ../shared/licenses.
signatures:
	$(BIN)/python -m auditor.signatures.build

signatures-check:
	$(BIN)/python -m auditor.signatures.build --check

bench:
	$(BIN)/python bench/run.py

# The real-world corpus (../shared/corpus): right / wrong / unknown per part, and findings.
corpus:
	$(BIN)/python bench/corpus.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
