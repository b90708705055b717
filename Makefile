# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := examples/moonlit-hanok

.PHONY: demo test lint bench plates clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/soundstage render $(DEMO)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/parse_speed.py

# Rebuild the example's green-screen plates from the public-domain photograph (needs scikit-image).
plates: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,plates]'
	$(BIN)/python $(DEMO)/plates/build_plates.py

clean:
	rm -rf $(VENV) $(DEMO)/out $(DEMO)/.soundstage
