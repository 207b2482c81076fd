"""The edition on every page, and what a reader takes away: the data zip and the figure list.

Loaded by :mod:`afterkarabakh.book.sphinxext`. It

1. states the edition (read from :mod:`afterkarabakh.edition`, never typed) in Sphinx's
   ``version`` and ``release`` and in every page's footer, with links to the book as one PDF
   (``after-karabakh-<version>.pdf`` at the book's root, put there by ``make pdf``;
   :mod:`afterkarabakh.book.pdf`) and to the data as one zip;
2. writes, when the build ends, ``figures.json`` (every numbered figure: number, title, page,
   anchor, datasets and sources; :func:`afterkarabakh.book.figures.manifest`) and the data
   package as one zip, ``data/after-karabakh-data-<version>.zip``: every file of the package as
   the book serves it, the licence, a README and the figure list. ``make release`` keeps the same
   zip under ``editions/`` so that the next edition can say what changed.
"""

from __future__ import annotations

import html
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from .. import edition, paths

LICENCE = "LICENSE-CC-BY-4.0.md"
FIGURES = "figures.json"
#: Set on zip entries so that the same data give the same bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def footer_html(pathto) -> str:
    """The footer's edition line, with the PDF and the data zip linked relative to the page."""
    pdf = pathto(edition.pdf_name(), 1)
    zipped = pathto(f"data/{edition.data_zip_name()}", 1)
    return (
        f'<p class="ak-edition">After Karabakh, {html.escape(edition.label())}. '
        f'<a href="{html.escape(pdf)}">The book as one PDF</a> · '
        f'<a href="{html.escape(zipped)}" download>the data as one zip</a>.</p>'
    )


def readme(version: str, day: str, files: list[str], n_figures: int | None) -> str:
    """The zip's README: what it holds, how to cite it, its licence."""
    from . import citing

    book = citing.book_config()
    tables = [f for f in files if f.endswith(".csv")]
    figures = (
        f"- `{FIGURES}`: the book's {n_figures} numbered figures in this edition (number, title, "
        "page, anchor, and the datasets and sources each draws on).\n"
        if n_figures
        else ""
    )
    cite = citing.citation_text(
        book=f"{book['title']}: shared data",
        authors=book["author"],
        year=citing.year_of(str(book["copyright"])),
        chapter=None,
        url=edition.data_zip_name(version),
        version=version,
        day=day,
    )
    return (
        f"# {book['title']}: the data, {edition.label(version, day)}\n\n"
        "Every dataset the book charts, with the registry of the sources each row rests on.\n\n"
        "- `datapackage.json`: the Frictionless data package descriptor: each dataset's title, "
        "description and caveats, its fields with types, units and constraints, its keys and its "
        "sources.\n"
        f"- {len(tables)} CSV files (UTF-8), one per dataset; `sources.csv` is the registry, with "
        "the Internet Archive's address of each page as it was read (`archive_url`).\n"
        "- `geo/`: the map layers (GeoJSON) and where they come from.\n"
        f"{figures}"
        f"- `{LICENCE}`: the licence.\n\n"
        "Check the package with Frictionless: `frictionless validate datapackage.json`.\n\n"
        f"How to cite: {cite}\n\n"
        "Licence: Creative Commons Attribution 4.0 (CC BY 4.0) for the compilation; each source "
        "keeps its own terms.\n"
    )


def write_data_zip(
    target: Path,
    data_dir: Path,
    *,
    version: str = edition.VERSION,
    day: str = edition.DATE,
    figures: list | None = None,
    serve: bool = True,
) -> Path:
    """The data package as one zip under a folder named like the file; the same data give the
    same bytes. ``serve`` adds the archive addresses to the registry, as the book serves it."""
    from .sphinxext import serve_registry

    target = Path(target)
    folder = target.name.removesuffix(".zip")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "data"
        shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("*.zip", "__pycache__", ".*"))
        with (copy / "sources.csv").open(encoding="utf-8") as registry:
            served = "archive_url" in registry.readline().split(",")[-1]
        if serve and not served:
            serve_registry(copy)
        files = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
        extra = {
            "README.md": readme(version, day, files, len(figures) if figures else None),
            LICENCE: (paths.ROOT / LICENCE).read_text(encoding="utf-8"),
        }
        if figures:
            extra[FIGURES] = json.dumps(figures, indent=2, ensure_ascii=False) + "\n"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
            entries = [(name, (copy / name).read_bytes()) for name in files]
            entries += [(name, text.encode("utf-8")) for name, text in extra.items()]
            for name, content in sorted(entries):
                info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zipped.writestr(info, content)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_bytes() != buffer.getvalue():
        target.write_bytes(buffer.getvalue())
    return target


def toc_pages() -> list[str]:
    """The book's pages (docnames) in reading order, from _toc.yml."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part.get("chapters", [])]
    return pages + [chapter["file"] for chapter in toc.get("chapters", [])]


def _on_config_inited(app, config) -> None:
    config.version = config.release = edition.VERSION


#: The page that compares editions, and what it reads besides the data.
CHANGES_PAGE = "chapters/appendix_changes"


def _on_source_read(app, docname, source) -> None:
    """The "What changed" page also depends on the changelog and the kept editions."""
    if docname != CHANGES_PAGE:
        return
    from .. import editions

    for file in [
        paths.ROOT / editions.CHANGELOG,
        *sorted((paths.ROOT / editions.SNAPSHOTS).glob("*.zip")),
    ]:
        if file.exists():
            app.env.note_dependency(str(file))


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    # The footer set in _config.yml (html.extra_footer), then the edition line.
    configured = context.get("theme_extra_footer") or app.config.html_theme_options.get(
        "extra_footer", ""
    )
    before = f"<p>{configured}</p>" if configured and not configured.startswith("<") else configured
    context["theme_extra_footer"] = f"{before or ''}{footer_html(context['pathto'])}"


def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from . import figures

    outdir = Path(app.outdir)
    listed = figures.manifest(outdir, toc_pages())
    text = json.dumps(listed, indent=2, ensure_ascii=False) + "\n"
    target = outdir / FIGURES
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    # Made from the served copy (sphinxext copies data/ first): what a reader downloads file by file.
    write_data_zip(outdir / "data" / edition.data_zip_name(), outdir / "data", figures=listed)


def setup(app):
    app.connect("config-inited", _on_config_inited)
    app.connect("source-read", _on_source_read)
    app.connect("html-page-context", _on_page_context, priority=950)
    # After sphinxext has copied and served the data (priority 500).
    app.connect("build-finished", _on_build_finished, priority=700)
    app.add_css_file("afterkarabakh-editions.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
