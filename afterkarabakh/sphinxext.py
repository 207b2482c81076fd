"""Sphinx glue for the book (loaded through ``_config.yml``).

It does four things the stock Jupyter Book 1.x does not:

1. **The bibliography comes from the one source registry.** ``data/sources.csv``
   is turned into the BibTeX file sphinxcontrib-bibtex reads, so ``{cite}`` in
   prose and the ``source_id`` of every data row resolve against the same list.
2. **Vega is served by the book.** The vl-convert bundle (matching Altair) is
   written under ``_static/vendor`` and added only to pages that draw charts, so
   the built book asks no other host for anything.
3. **No stale charts.** Notebooks are executed whenever Sphinx re-reads them
   (``execute_notebooks: force``), and every notebook is declared dependent on
   the data files and the shared package, so a changed CSV or helper re-reads and
   re-executes the notebooks, while a build with no change re-reads nothing.
4. **The book build is marked** in the environment, so chart outputs rely on the
   page's bundle instead of embedding their own.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import paths

BIB_RELATIVE = Path("_build") / ".generated" / "sources.bib"
VENDOR_DIR = "vendor"


def _bibtex_escape(text: str) -> str:
    return (str(text).replace("\\", "\\textbackslash{}").replace("{", "\\{").replace("}", "\\}")
            .replace("&", "\\&").replace("%", "\\%").replace("$", "\\$").replace("#", "\\#")
            .replace("_", "\\_"))


def bibtex_from_registry() -> str:
    """One ``@misc`` entry per registry row (publisher, title, URL, dates, and the source's kind)."""
    from . import data

    entries = []
    for source_id, s in data.sources().iterrows():
        published = s["date_published"]
        fields = {
            "title": "{" + _bibtex_escape(s["title"]) + "}",
            "howpublished": _bibtex_escape(s["publisher"]),
            "url": str(s["url"]),
            "note": f"Kind: {_bibtex_escape(s['kind'])}. "
                    + ("Published " + published.strftime("%-d %B %Y") + "; " if published == published and published is not None
                       else "Undated; ") + "accessed " + s["date_accessed"].strftime("%-d %B %Y"),
        }
        if published == published and published is not None:
            fields["year"] = str(published.year)
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
        entries.append(f"@misc{{{source_id},\n{body}\n}}\n")
    return "\n".join(entries)


def _write_if_changed(path: Path, content: str) -> None:
    """Keep the mtime of an unchanged file, so Sphinx does not think it changed."""
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def _data_fingerprint() -> str:
    """Digest of every data file: when it matches the last validated build, nothing needs redoing."""
    digest = hashlib.sha256()
    for file in sorted(p for p in paths.DATA.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(paths.DATA)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _on_config_inited(app, config) -> None:
    bib = Path(app.confdir) / BIB_RELATIVE
    stamp = bib.with_name("data-validated.sha256")
    fingerprint = _data_fingerprint()
    # Validation and the bibliography cost seconds; a no-change rebuild should not pay them.
    if not (bib.exists() and stamp.exists() and stamp.read_text() == fingerprint):
        from . import data

        data.validate()  # a broken data package stops the build before any notebook runs
        _write_if_changed(bib, bibtex_from_registry())
        stamp.write_text(fingerprint)
    os.environ["AFTERKARABAKH_BOOK_BUILD"] = "1"
    # The book's stylesheet ships with the package, not in a top-level _static folder.
    config.html_static_path = list(config.html_static_path) + [str(paths.PACKAGE / "static")]


def dependency_files() -> list[Path]:
    """The files every notebook's output depends on besides its own cells."""
    files = sorted(p for p in paths.DATA.rglob("*") if p.is_file())
    files += sorted(paths.PACKAGE.rglob("*.py"))
    return files


def _on_source_read(app, docname, source) -> None:
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    for file in dependency_files():
        app.env.note_dependency(str(file))


def _vendor_js_name() -> str:
    """Named after the packages that produce the bundle, read without importing them (fast)."""
    from importlib.metadata import version

    return f"{VENDOR_DIR}/vega-bundle-altair-{version('altair')}-vl-convert-{version('vl-convert-python')}.js"


def _is_thebe(asset) -> bool:
    return "thebe" in str(asset).lower() or "THEBE" in str(getattr(asset, "attributes", {}).get("body", ""))


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    # Jupyter Book always loads sphinx-thebe, whose inline script points at a CDN and is
    # declared twice (a console error); the book has no live code, so drop it.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [asset for asset in context[key] if not _is_thebe(asset)]
    if "ak-chart" in context.get("body", ""):
        app.add_js_file(_vendor_js_name(), priority=100)


def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import shutil

    from . import charts

    # The data files, so the appendix's download links work from the built book.
    shutil.copytree(paths.DATA, Path(app.outdir) / "data", dirs_exist_ok=True)
    target = Path(app.outdir) / "_static" / _vendor_js_name()
    if not target.exists():  # versioned name: present means current
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(charts.javascript_bundle(), encoding="utf-8")


#: Extensions that jupyter-book loads, that are safe for Sphinx's parallel read, but that do not
#: say so (Sphinx then reads serially, and warns, which a strict build treats as an error):
#: - sphinx_multitoc_numbering only replaces the method that numbers sections, which Sphinx runs
#:   in the main process after the parallel readers have merged their results;
#: - sphinx_jupyterbook_latex sets two environment values when the builder starts (before the
#:   readers fork, so each inherits them) and otherwise acts only on the LaTeX builder.
#: Neither keeps per-document state that a merge would lose.
PARALLEL_READ_SAFE_UNDECLARED = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def _declare_parallel_safe(app) -> None:
    for name in PARALLEL_READ_SAFE_UNDECLARED:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True


def setup(app):
    app.connect("builder-inited", _declare_parallel_safe)
    app.add_css_file("afterkarabakh.css")
    app.connect("config-inited", _on_config_inited)
    app.connect("source-read", _on_source_read)
    app.connect("html-page-context", _on_page_context, priority=900)
    app.connect("build-finished", _on_build_finished)
    app.setup_extension("afterkarabakh.citing")  # "How to cite this chapter" on each chapter page
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
