# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test,app]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/biaslens demo --out demo-out

test: setup
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -q -n 2

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) demo-out .pytest_cache
