"""A "How to cite" block at the foot of every chapter page, added by the build.

The book's title, authors and year come from ``_config.yml`` (``title``, ``author`` and
``copyright``), the edition (version and date) from :mod:`afterkarabakh.edition`, the chapter's
title from its first heading, and the address from the page's path (prefixed by
``html_baseurl`` when the book sets one), so the block can never disagree with the book or with
``CITATION.cff``. Hooked by ``afterkarabakh.book.sphinxext``. Each figure's own citation
(:func:`figure_citation_html`) is added by :mod:`afterkarabakh.book.figures`.
"""

from __future__ import annotations

import html
import re

from .. import edition

#: Pages that are parts of the book's apparatus rather than chapters: no citation block.
APPENDICES = {
    "chapters/appendix_data",
    "chapters/appendix_sources",
    "chapters/appendix_method",
    "chapters/glossary",
    "chapters/gazetteer",
    "chapters/appendix_changes",
}


def year_of(copyright_text: str) -> str:
    """The latest year in Sphinx's ``copyright`` setting ('2026', '2025–2026, the authors')."""
    years = re.findall(r"\d{4}", copyright_text or "")
    if not years:
        raise ValueError("_config.yml has no year in 'copyright'; the citation block needs one")
    return years[-1]


def page_url(pagename: str, baseurl: str = "") -> str:
    """The page's address: its path in the built book, absolute when the book has a base URL."""
    path = f"{pagename}.html"
    return f"{baseurl.rstrip('/')}/{path}" if baseurl else path


def edition_words(version: str | None, day: str | None) -> str:
    """', edition 1.2.3 (4 May 2027)', or nothing when no edition is given."""
    if not version:
        return ""
    return f", edition {version}" + (f" ({edition.date_words(day)})" if day else "")


def citation_text(
    *,
    book: str,
    authors: str,
    year: str,
    chapter: str | None,
    url: str,
    version: str | None = None,
    day: str | None = None,
) -> str:
    """One citation in plain text; ``chapter=None`` cites the whole book (its front page)."""
    ed = edition_words(version, day)
    if chapter:
        return f"{authors} ({year}). “{chapter}”. In {book}{ed}. {url}"
    return f"{authors} ({year}). {book}{ed}. {url}"


def citation_html(
    *,
    book: str,
    authors: str,
    year: str,
    chapter: str | None,
    url: str,
    href: str | None = None,
    version: str | None = None,
    day: str | None = None,
) -> str:
    """The block as HTML; ``href`` is the link as seen from the page itself (default: ``url``)."""
    what = "chapter" if chapter else "book"
    ed = html.escape(edition_words(version, day))
    work = (
        f"“{html.escape(chapter)}”. In <em>{html.escape(book)}</em>{ed}."
        if chapter
        else f"<em>{html.escape(book)}</em>{ed}."
    )
    link = f'<a href="{html.escape(href or url)}">{html.escape(url)}</a>'
    return (
        f'<section class="ak-cite" id="how-to-cite"><h2>How to cite this {what}</h2>'
        f"<p>{html.escape(authors)} ({html.escape(year)}). {work} {link}</p>"
        "<p>Text and data: CC BY 4.0; code: MIT. Each source keeps its own terms.</p></section>"
    )


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    if doctree is None or pagename in APPENDICES or not pagename.startswith("chapters/"):
        return
    root = app.config.root_doc if hasattr(app.config, "root_doc") else app.config.master_doc
    title = app.env.titles[pagename].astext() if pagename in app.env.titles else None
    book = book_config()
    baseurl = getattr(app.config, "html_baseurl", "") or ""
    context["body"] = context.get("body", "") + citation_html(
        book=book["title"],
        authors=book["author"],
        year=year_of(str(book["copyright"])),
        chapter=None if pagename == root else title,
        url=page_url(pagename, baseurl),
        href=page_url(pagename, baseurl) if baseurl else f"{pagename.rsplit('/', 1)[-1]}.html",
        version=edition.VERSION,
        day=edition.DATE,
    )


# --- a figure's citation ---------------------------------------------------------------------------


def bibtex_text(text: str, *, for_pybtex: bool = False) -> str:
    """Text inside a BibTeX field that reads back as written: braces and LaTeX's special
    characters escaped, and a double hyphen kept from becoming a dash.

    ``for_pybtex``: for pybtex, which formats the book's own bibliography. Its LaTeX reader
    takes a bare ``$`` as itself and does not know ``\\$`` (it would show the backslash), so
    there the dollar sign stays bare; a BibTeX file for a reader's LaTeX escapes it.
    """
    special = "\\{}&%#_" if for_pybtex else "\\{}&%$#_"
    text = re.sub(
        f"[{re.escape(special)}]",
        lambda m: "\\textbackslash{}" if m[0] == "\\" else "\\" + m[0],
        text,
    )
    return text.replace("--", "-{}-").replace("--", "-{}-")  # twice: "---" overlaps itself


def figure_label(number: str | None, title: str) -> str:
    """'Figure 3.2: Title' (or the title alone when the figure has no number)."""
    return f"Figure {number}: {title}" if number else title


def figure_citation_text(
    *,
    book: str,
    authors: str,
    year: str,
    number: str | None,
    title: str,
    url: str,
    version: str = edition.VERSION,
    day: str = edition.DATE,
) -> str:
    return (
        f"{authors} ({year}). “{figure_label(number, title)}”. In {book}"
        f"{edition_words(version, day)}. {url}"
    )


def figure_bibtex(
    *,
    book: str,
    authors: str,
    year: str,
    number: str | None,
    title: str,
    url: str,
    version: str = edition.VERSION,
    day: str = edition.DATE,
) -> str:
    """One ``@misc`` entry, keyed by book, edition and figure number."""
    slug = re.sub(r"[^a-z0-9]+", "", book.lower())
    key = f"{slug}-{version}-fig-{(number or 'x').replace('.', '-')}"
    fields = {
        "author": "{" + bibtex_text(authors) + "}",
        "title": "{" + bibtex_text(figure_label(number, title)) + "}",
        "howpublished": f"In \\emph{{{bibtex_text(book)}}}, edition {version}",
        "year": year,
        "date": day,
        "version": version,
        "url": url,
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    return f"@misc{{{key},\n{body}\n}}"


def figure_citation_html(**kwargs) -> str:
    """The "Cite this figure" disclosure: the citation in text, then in BibTeX."""
    text = figure_citation_text(**kwargs)
    bibtex = figure_bibtex(**kwargs)
    return (
        '<details class="ak-cite-figure"><summary>Cite this figure</summary>'
        f'<p class="ak-cite-figure-text">{html.escape(text)}</p>'
        f'<pre class="ak-cite-figure-bibtex"><code>{html.escape(bibtex)}</code></pre></details>'
    )


def book_config() -> dict:
    """Title, author and copyright as _config.yml gives them (Jupyter Book does not pass the
    title to Sphinx's ``project``)."""
    import yaml

    from .. import paths

    return yaml.safe_load((paths.ROOT / "_config.yml").read_text(encoding="utf-8"))


def setup(app):
    app.connect("html-page-context", _on_page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
