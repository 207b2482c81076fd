"""Numbered figures: every chart in the book is "Figure 3.2", and the prose can refer to it.

``charts.finish`` marks a chart's HTML with its title and, when given, a name
(``data-ak-title``, ``data-ak-figure``). At read time this transform wraps each
such output in a docutils figure whose caption is the chart's title, so Sphinx's
own numbering (``numfig``, numbered chapters in ``_toc.yml``) counts it, and a
named chart becomes a label: ``{numref}`fig-ukraine-claims``` in a chapter's
Markdown prints "Figure 3.2" and links to it. The caption's text repeats the
chart's drawn title, so the stylesheet shows only the number to sighted readers.

Once the numbers are known (when each page is written), :class:`CiteFigures` gives every figure a
"Cite this figure" disclosure: its number and title, the book's edition and date, and the page's
address with the figure's anchor, in text and BibTeX (:mod:`afterkarabakh.book.citing`).
:func:`manifest` lists the built book's figures (number, title, page, anchor, and the datasets and
sources each draws on), for the data download and the next edition's "What changed" page.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

FIGURE_CLASS = "ak-numbered-figure"
_MARK = re.compile(r'<div class="ak-figure" data-ak-title="([^"]*)"(?: data-ak-figure="([^"]*)")?')


def _chart_mark(bundle: nodes.Element) -> tuple[str, str | None] | None:
    """The (title, name) of the chart a mime bundle holds, or None for any other output."""
    for mime in bundle.children:
        if mime.get("mime_type") != "text/html":
            continue
        match = _MARK.search(mime.astext())
        if match:
            return html.unescape(match.group(1)), match.group(2) or None
    return None


class NumberCharts(SphinxTransform):
    """Wrap each chart output in a captioned figure, before Sphinx collects figure numbers."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        bundles = [
            node
            for node in self.document.findall(nodes.container)
            if node.get("nb_element") == "mime_bundle"
        ]
        for bundle in bundles:
            mark = _chart_mark(bundle)
            if mark is None:
                continue
            title, name = mark
            figure = nodes.figure(classes=[FIGURE_CLASS])
            figure.source, figure.line = bundle.source, bundle.line
            bundle.replace_self(figure)
            # The caption comes last: docutils' HTML writer closes <figcaption> only at the figure's
            # end. The stylesheet shows it above the chart.
            figure += bundle
            figure += nodes.caption("", title)
            if name:
                figure["names"].append(nodes.fully_normalize_name(name))
                self.document.note_explicit_target(figure, figure)
            else:
                self.document.set_id(figure)


class CiteFigures(SphinxPostTransform):
    """Before each numbered figure's caption, a "Cite this figure" block (numbers are known now)."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs) -> None:
        from . import citing

        docname = self.env.docname
        numbers = self.env.toc_fignumbers.get(docname, {}).get("figure", {})
        book = citing.book_config()
        baseurl = getattr(self.config, "html_baseurl", "") or ""
        for figure in list(self.document.findall(nodes.figure)):
            if FIGURE_CLASS not in figure["classes"] or not figure["ids"]:
                continue
            anchor = figure["ids"][0]
            number = ".".join(map(str, numbers.get(anchor, ()))) or None
            captions = [c for c in figure.children if isinstance(c, nodes.caption)]
            title = captions[0].astext() if captions else ""
            block = citing.figure_citation_html(
                book=book["title"],
                authors=book["author"],
                year=citing.year_of(str(book["copyright"])),
                number=number,
                title=title,
                url=f"{citing.page_url(docname, baseurl)}#{anchor}",
            )
            where = figure.index(captions[0]) if captions else len(figure.children)
            figure.insert(where, nodes.raw("", block, format="html"))


_FIGURE_HTML = re.compile(
    r'<figure class="[^"]*\b'
    + FIGURE_CLASS
    + r'\b[^"]*" id="(?P<id>[^"]+)">(?P<body>.*?)</figure>',
    re.S,
)
_NUMBER_HTML = re.compile(r'<span class="caption-number">Figure ([\d.]+)\s*</span>')
_CAPTION_HTML = re.compile(r'<span class="caption-text">(.*?)</span>', re.S)
_SPEC_HTML = re.compile(r'<script type="application/json" id="[^"]+-spec">(.*?)</script>', re.S)


def manifest(outdir, pages: list[str]) -> list[dict]:
    """Every numbered figure of the built pages (``pages``: docnames in reading order): its number,
    title, page, anchor, and the datasets and sources its chart names."""
    import json
    from pathlib import Path

    found = []
    for page in pages:
        file = Path(outdir) / f"{page}.html"
        if not file.exists():
            continue
        for match in _FIGURE_HTML.finditer(file.read_text(encoding="utf-8")):
            body = match.group("body")
            number = _NUMBER_HTML.search(body)
            caption = _CAPTION_HTML.search(body)
            spec = _SPEC_HTML.search(body)
            meta = {}
            if spec:
                try:
                    usermeta = json.loads(spec.group(1)).get("usermeta") or {}
                    meta = usermeta.get("afterkarabakh", {})
                except ValueError:
                    meta = {}
            found.append(
                {
                    "number": number.group(1) if number else None,
                    "title": html.unescape(re.sub(r"<[^>]+>", "", caption.group(1))).strip()
                    if caption
                    else meta.get("title", ""),
                    "page": page,
                    "id": match.group("id"),
                    "datasets": sorted(meta.get("datasets", [])),
                    "sources": sorted(meta.get("sources", [])),
                }
            )
    return found


def setup(app):
    app.add_transform(NumberCharts)
    app.add_post_transform(CiteFigures)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
