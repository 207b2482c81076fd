"""Numbered figures: every chart in the book is "Figure 3.2", and the prose can refer to it.

``charts.finish`` marks a chart's HTML with its title and, when given, a name
(``data-ak-title``, ``data-ak-figure``). At read time this transform wraps each
such output in a docutils figure whose caption is the chart's title, so Sphinx's
own numbering (``numfig``, numbered chapters in ``_toc.yml``) counts it, and a
named chart becomes a label: ``{numref}`fig-ukraine-claims``` in a chapter's
Markdown prints "Figure 3.2" and links to it. The caption's text repeats the
chart's drawn title, so the stylesheet shows only the number to sighted readers.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx.transforms import SphinxTransform

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


def setup(app):
    app.add_transform(NumberCharts)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
