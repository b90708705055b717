# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORE   := $(VENV)/.core
DEV    := $(VENV)/.dev
DEMO   := examples/moonlit-hanok

.PHONY: demo test lint bench plates clean

# The demo needs only the light core; the tests also need every engine's client (torch, diffusers, SDKs).
$(CORE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(CORE)

$(DEV): $(CORE)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV)

demo: $(CORE)
	$(BIN)/soundstage render $(DEMO)
	$(BIN)/soundstage report disclosure $(DEMO)

test: $(DEV)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/pytest -q -n auto

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy

bench: $(DEV)
	$(BIN)/python benchmarks/parse_speed.py
	$(BIN)/python benchmarks/parse_pathological.py
	$(BIN)/python benchmarks/key_quality.py
	$(BIN)/python benchmarks/comp_speed.py
	$(BIN)/python benchmarks/comp_ops.py
	$(BIN)/python benchmarks/stream_speed.py
	$(BIN)/python benchmarks/render_overhead.py
	$(BIN)/python benchmarks/render_scaling.py
	$(BIN)/python benchmarks/watermark.py
	$(BIN)/python benchmarks/provenance_cost.py

# Rebuild the example's green-screen plates from the public-domain photograph (needs scikit-image, and
# espeak-ng to speak their lines: Debian's package, installed here as .ci/run installs its own). Only this
# target needs espeak-ng; `make demo` and `make test` use the plates as committed.
plates: $(DEV)
	@command -v espeak-ng >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null; } 2>/dev/null || { \
	  echo "make plates: espeak-ng is missing and could not be installed; run: sudo apt-get install espeak-ng" >&2; \
	  exit 1; }
	$(BIN)/pip install --quiet -e '.[dev,plates]'
	$(BIN)/python $(DEMO)/plates/build_plates.py

clean:
	rm -rf $(VENV) $(DEMO)/out $(DEMO)/.soundstage
