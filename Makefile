# After Karabakh: two commands on a fresh machine.
#   make book   build the HTML book into _build/html (sets up .venv first)
#   make test   run every test (same set-up; installs Debian's chromium if missing)
# Also: make lab (JupyterLab on the chapters), make bench, make outputs, make clean.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.requirements-installed

AXE_VERSION := 4.10.3
AXE_DIR     := $(VENV)/axe-core
AXE         := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: book test lab bench outputs clean browser-deps

# Everything the built pages depend on: when none of it changed, `make book` has nothing to do.
BOOK_SOURCES := $(shell find chapters data afterkarabakh -type f -not -path '*/__pycache__/*' \
                  -not -path '*/.ipynb_checkpoints/*' 2>/dev/null) _config.yml _toc.yml requirements.txt
BOOK_STAMP   := _build/html/.book-built

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@# Make the shared package importable from notebooks, tests and Sphinx without a build step.
	$(BIN)/python -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'afterkarabakh-repo.pth').write_text('$(CURDIR)\n')"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

book: $(BOOK_STAMP)
	@echo "Book built: open _build/html/index.html"

$(BOOK_STAMP): $(STAMP) $(BOOK_SOURCES)
	$(BIN)/python -m afterkarabakh.build   # strict: warnings are errors
	@touch $@

# The browser test's tools: Debian's chromium, poppler-utils (pdftotext, for the print test) and
# axe-core (accessibility rules, pinned, from npm; injected into each built page by the test).
browser-deps: $(AXE)
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and poppler-utils for the browser test..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(AXE_DIR) axe-core@$(AXE_VERSION)

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir .

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

bench: $(STAMP) browser-deps
	$(BIN)/python -m afterkarabakh.bench

# Re-execute the notebooks and keep only the outputs of "# NBVAL_CHECK_OUTPUT" cells.
outputs: $(STAMP)
	$(BIN)/python -m afterkarabakh.notebooks refresh chapters/*.ipynb

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -prune -not -path './$(VENV)/*' -exec rm -rf {} +
