# After Karabakh: two commands on a fresh machine.
#   make book   build the HTML book into _build/html (sets up .venv first)
#   make test   run every test (same set-up; installs Debian's chromium if missing)
#   make test-fast [NAME=slug]   data, package, hygiene and one chapter under nbval, in under a minute
#               (NAME defaults to the chapter notebook changed last)
# Also: make lab (JupyterLab on the chapters), make bench [BEFORE=path], make lighthouse, make outputs, make clean, make linkcheck,
#       make chapter NAME=slug (a new chapter from chapters/_template.ipynb, listed in _toc.yml),
#       make pdf (the book as one PDF), make release VERSION=x.y.z (a new edition).

PYTHON  ?= python3
#: The oldest Python the pinned requirements install on (soupsieve needs 3.11.5); the README says so.
MIN_PYTHON := 3.11.5
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.requirements-installed
#: JupyterLab lives in its own environment, so the book's kernels do not import its server stack.
LAB_VENV  := .venv-lab
LAB_STAMP := $(LAB_VENV)/.requirements-installed
UV        := uv==0.13.9

AXE_VERSION := 4.14.1
AXE_DIR     := $(VENV)/axe-core
AXE         := $(AXE_DIR)/.installed-$(AXE_VERSION)
#: Lighthouse for `make bench` (pinned, from npm): 12.8.2 is the last release that runs on Node 20
#: (Lighthouse 13 needs Node 22.19 or newer).
LIGHTHOUSE_VERSION := 12.8.2
LIGHTHOUSE_DIR     := $(VENV)/lighthouse
LIGHTHOUSE         := $(LIGHTHOUSE_DIR)/.installed-$(LIGHTHOUSE_VERSION)

.PHONY: book test test-fast lab bench lighthouse outputs clean browser-deps chapter requirements python-version linkcheck \
        pdf release print-deps

# Everything the built pages depend on: when none of it changed, `make book` has nothing to do.
BOOK_SOURCES := $(shell find chapters data afterkarabakh -type f -not -path '*/__pycache__/*' \
                  -not -path '*/.ipynb_checkpoints/*' 2>/dev/null) _config.yml _toc.yml requirements.txt
BOOK_STAMP   := _build/html/.book-built

python-version:
	@$(PYTHON) -c 'import sys; v = tuple(map(int, "$(MIN_PYTHON)".split("."))); sys.exit(0 if sys.version_info[:3] >= v else 1)' \
	  || { echo "After Karabakh needs Python $(MIN_PYTHON) or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." \
	       "Install a newer Python, or run make with PYTHON=/path/to/python3.11"; exit 1; }

$(STAMP): requirements.txt | python-version
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
	$(BIN)/python -m afterkarabakh.book.build   # strict (warnings are errors), on every core
	@touch $@

# The browser test's tools: Debian's chromium, poppler-utils (pdftotext, for the print test) and
# axe-core (accessibility rules, pinned, from npm; injected into each built page by the test).
browser-deps: print-deps $(AXE)

# What printing needs (make pdf and the print tests): Debian's chromium and poppler-utils, only.
print-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium and poppler-utils for the browser test..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(AXE_DIR) axe-core@$(AXE_VERSION)
	@touch $@

$(LIGHTHOUSE):
	npm install --silent --no-audit --no-fund --prefix $(LIGHTHOUSE_DIR) lighthouse@$(LIGHTHOUSE_VERSION)
	@touch $@

$(LAB_STAMP): requirements-lab.txt requirements.txt | python-version
	@test -x $(LAB_VENV)/bin/python || $(PYTHON) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install --quiet pip==26.3
	$(LAB_VENV)/bin/python -m pip install --quiet -r requirements-lab.txt
	@touch $(LAB_STAMP)

test: $(STAMP) $(LAB_STAMP) browser-deps
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir . --one-build --no-loadscope-reorder

# For a chapter author: the data package and its loader, the package, notebook hygiene and lint,
# and one chapter under nbval (the chapter changed last unless NAME is given); no book build, no
# browser. Tests are shared out file by file (the notebook's cells run in order in one kernel).
FAST_CHAPTER = $(or $(NAME),$(basename $(notdir $(firstword $(shell ls -t chapters/[!_]*.ipynb)))))
FAST_TESTS   := tests/test_data.py tests/test_package.py tests/test_notebooks.py tests/test_lint.py \
                tests/test_consistency.py tests/test_apparatus.py tests/test_citing.py
test-fast: $(STAMP)
	@test -f chapters/$(FAST_CHAPTER).ipynb || { echo "no chapter chapters/$(FAST_CHAPTER).ipynb"; exit 2; }
	$(BIN)/python -m pytest -c tests/pytest.ini --rootdir . $(FAST_TESTS) chapters/$(FAST_CHAPTER).ipynb

# The lab runs from .venv-lab; the notebooks run on the book's kernel in .venv, found through JUPYTER_PATH.
lab: $(STAMP) $(LAB_STAMP)
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(LAB_VENV)/bin/jupyter lab chapters

# Re-pin after editing requirements.in or requirements-lab.in (uv, pinned, in a throwaway environment).
# Existing pins are kept; `make requirements UPGRADE=altair` moves one package (and what it needs).
COMPILE = --python-version $(MIN_PYTHON) --no-annotate --custom-compile-command "make requirements" \
          $(if $(UPGRADE),--upgrade-package $(UPGRADE))
requirements: | python-version
	@test -x .venv-tools/bin/uv || { $(PYTHON) -m venv .venv-tools && .venv-tools/bin/pip install --quiet $(UV); }
	.venv-tools/bin/uv pip compile requirements.in $(COMPILE) -o requirements.txt
	.venv-tools/bin/uv pip compile requirements-lab.in $(COMPILE) -o requirements-lab.txt

# BEFORE=path times another checkout (with its own .venv, e.g. a worktree of main) in the same run.
bench: $(STAMP) $(LAB_STAMP) browser-deps $(LIGHTHOUSE)
	BEFORE="$(BEFORE)" $(BIN)/python -m afterkarabakh.book.bench

# Maintainers only, needs the network (never run by CI, the tests or the build): are the sources'
# pages still there, and does the Wayback Machine hold a copy? Report in _build/linkcheck.md.
# `make linkcheck ARGS=--save` also requests captures of live pages the archive lacks.
linkcheck: $(STAMP)
	$(BIN)/python -m afterkarabakh.book.linkcheck $(ARGS)

# Lighthouse alone (mobile profile, every content page of the built book): _build/lighthouse.md.
lighthouse: $(BOOK_STAMP) browser-deps $(LIGHTHOUSE)
	$(BIN)/python -m afterkarabakh.book.bench lighthouse

# Re-execute the notebooks and keep only the outputs of "# NBVAL_CHECK_OUTPUT" cells.
outputs: $(STAMP)
	$(BIN)/python -m afterkarabakh.book.notebooks refresh chapters/*.ipynb

chapter: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make chapter NAME=slug"; exit 2; }
	$(BIN)/python -m afterkarabakh.book.notebooks new $(NAME)

# The book as one PDF, printed offline by Debian's chromium from the built pages (one document,
# so page numbers run through it): _build/pdf/after-karabakh-<version>.pdf, copied to the book's
# root, where every page's footer links it.
EDITION_VERSION = $(shell sed -n 's/^VERSION = "\(.*\)"$$/\1/p' afterkarabakh/edition.py)
PDF := _build/pdf/after-karabakh-$(EDITION_VERSION).pdf

pdf: $(PDF)

$(PDF): $(BOOK_STAMP) print-deps
	$(BIN)/python -m afterkarabakh.book.pdf

# A new edition: refuses a dirty tree or failing tests; stamps the version and date (the one place
# is afterkarabakh/edition.py), records it in CHANGELOG.md, keeps its data, commits and tags it.
release: $(STAMP)
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=x.y.z"; exit 2; }
	$(BIN)/python -m afterkarabakh.book.release $(VERSION)

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -prune -not -path './$(VENV)/*' -exec rm -rf {} +
