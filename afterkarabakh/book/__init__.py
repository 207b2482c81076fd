"""The book's machinery, for maintainers: nothing here is imported by a chapter.

- ``sphinxext``: the Sphinx extension (bibliography from the registry, the served Vega bundle,
  light pages, rebuilds that re-execute exactly what changed), with ``figures`` (every chart a
  numbered figure, each with its citation), ``citing`` (how to cite each page and figure) and
  ``downloads`` (the edition in every footer, the data as one zip, the list of figures);
- ``release``: ``make release VERSION=x.y.z``, a new edition (stamped, recorded, tagged);
- ``pdf``: ``make pdf``, the book as one PDF, printed offline by Debian's chromium;
- ``build``: the strict, parallel book build (``python -m afterkarabakh.book.build``), whose
  kernels ``kernels`` forks from one process that has imported the package, and whose charts'
  still images ``drawers`` draws (one process per core);
- ``bench``: the measurements behind ``make bench``;
- ``linkcheck``: ``make linkcheck``, the sources' links, their archived copies and dates (needs the network);
- ``notebooks``: lean notebooks (``refresh``, ``strip``, ``new``);
- ``geobuild``: regenerates the map layers in ``data/geo`` from the pinned npm package.
"""
