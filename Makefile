# Tongban: two commands for a fresh Linux machine with Python 3.11.
#   make demo   set up, migrate, seed the demo city and serve it with a worker on http://127.0.0.1:8000
#   make test   set up and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
TEST_WORKERS ?= 2  # pytest-xdist processes (one per core of the 2-core CI machine)

.PHONY: demo test lint format clean

$(STAMP): pyproject.toml
	@# The PDFs embed a Chinese TrueType font (src/tongban/core/pdf_fonts.py): Debian's fonts-wqy-zenhei.
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || test -n "$$TONGBAN_PDF_FONT" || \
	  echo "WARNING: no Chinese font for the PDFs: sudo apt-get install fonts-wqy-zenhei (or set TONGBAN_PDF_FONT)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# axe-core (npm) for the browser journeys' accessibility checks: without it they skip, and fail in CI.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else echo "WARNING: no npm for axe-core (the browser tests' accessibility checks): sudo apt-get install npm"; fi

demo: $(STAMP)
	$(BIN)/tongban demo

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tongban.testrun -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules
