"""Sphinx glue for the book (loaded through ``_config.yml``).

It does five things the stock Jupyter Book 1.x does not:

1. **The bibliography comes from the one source registry.** ``data/sources.csv``
   is turned into the BibTeX file sphinxcontrib-bibtex reads, so ``{cite}`` in
   prose and the ``source_id`` of every data row resolve against the same list.
2. **Vega is served by the book.** The vl-convert bundle (matching Altair) is
   written under ``_static/vendor``; pages that draw charts load the book's renderer, which
   fetches the bundle when a chart first comes near the screen, and the charts' still images
   (``_static/charts``), so the built book asks no other host for anything.
3. **No stale charts.** Notebooks are executed whenever Sphinx re-reads them
   (``execute_notebooks: force``), and every notebook is declared dependent on
   the data files and the shared package, so a changed CSV or helper re-reads and
   re-executes the notebooks, while a build with no change re-reads nothing.
4. **The book build is marked** in the environment, so chart outputs rely on the
   page's bundle instead of embedding their own.
5. **Light, accessible pages.** The book's chart renderer and Sphinx's own scripts load
   with ``defer`` (text first; ``documentation_options.js`` inline, the theme's stylesheet
   without its chained import); the theme's 1.5 MB ``fontawesome.js`` is dropped and
   the few icons the pages use are drawn from their SVG paths (no icon font either);
   the search index loads only on the search page; sphinx-design's assets only on
   pages that use it; the bibliography's deprecated ARIA role becomes a list item; controls
   whose label does not contain what they show lose the label; each page gets a description
   (its first paragraph) for search engines; a favicon is served.
6. **Citations that outlive their links.** Each bibliography entry's address becomes a Robust
   Link with a link to the archive's copy nearest the day it was read
   (:mod:`afterkarabakh.archive`), and the registry the book serves (``data/sources.csv``) gains
   that archive address as a column, ``archive_url``, made at build time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

from sphinx.transforms.post_transforms import SphinxPostTransform

from .. import paths

BIB_RELATIVE = Path("_build") / ".generated" / "sources.bib"
VENDOR_DIR = "vendor"


def bibtex_from_registry() -> str:
    """One ``@misc`` entry per registry row (publisher, title, URL, dates, and the source's kind)."""
    from .. import data
    from .citing import bibtex_text

    def _bibtex(text) -> str:
        return bibtex_text(str(text), for_pybtex=True)

    entries = []
    for source_id, s in data.sources().iterrows():
        published = s["date_published"]
        fields = {
            "title": "{" + _bibtex(s["title"]) + "}",
            "howpublished": _bibtex(s["publisher"]),
            "url": str(s["url"]),
            "note": f"Kind: {_bibtex(s['kind'])}. "
            + (
                "Published " + published.strftime("%-d %B %Y") + "; "
                if published == published and published is not None
                else "Undated; "
            )
            + "accessed "
            + s["date_accessed"].strftime("%-d %B %Y"),
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
    """Digest of every data file and of the code that validates it and writes the bibliography
    from it: when it matches the last validated build, nothing needs redoing."""
    from . import citing

    digest = hashlib.sha256()
    for file in sorted(p for p in paths.DATA.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(paths.DATA)).encode())
        digest.update(file.read_bytes())
    for code in (paths.PACKAGE / "data.py", Path(__file__), Path(citing.__file__)):
        digest.update(code.read_bytes())
    return digest.hexdigest()


#: The process making the Vega bundle a clean build serves (see :func:`_start_making_the_bundle`).
_bundle_maker: subprocess.Popen | None = None


def _start_making_the_bundle(outdir: Path) -> None:
    """On a clean build, start making the Vega bundle the pages load, in a process of its own at
    low priority. Made in the main process when the pages are written, it held the build for
    over a second on its own (Altair's import, then vl-convert, which keeps the interpreter's
    lock while it bundles); made here, it uses the gaps the build leaves on the cores while
    Sphinx starts and the readers wait for their kernels."""
    global _bundle_maker
    if (outdir / "_static" / _vendor_js_name()).exists() or paths.vega_bundle_cached().exists():
        return
    _bundle_maker = subprocess.Popen([sys.executable, "-c", _MAKE_THE_BUNDLE], cwd=paths.ROOT)


_MAKE_THE_BUNDLE = """import os
if hasattr(os, "nice"):
    os.nice(10)
from afterkarabakh import charts
charts.javascript_bundle()
"""


def _data_checked_for(confdir: Path) -> tuple[bool, Path, Path, str]:
    """Whether the data package, as it is, was validated and its bibliography written by an
    earlier build; the bibliography's path, the stamp that says so, and the data's fingerprint."""
    bib = Path(confdir) / BIB_RELATIVE
    stamp = bib.with_name("data-validated.sha256")
    fingerprint = _data_fingerprint()
    checked = bib.exists() and stamp.exists() and stamp.read_text() == fingerprint
    return checked, bib, stamp, fingerprint


#: The process validating the data package while Sphinx starts (see :func:`start_validating`).
_validating: subprocess.Popen | None = None


def start_validating(confdir: Path) -> None:
    """When this build must validate the data package (a clean build, or changed data), start
    now, in a process of its own, while Sphinx and its extensions load: validation takes about a
    second, and the main process used to begin it only once they had loaded. The build's own
    validation, when its configuration is read, then finds the data validated, or fails loudly
    as before; this only does the work early."""
    global _validating
    if not _data_checked_for(confdir)[0]:
        _validating = subprocess.Popen(
            [sys.executable, "-c", "from afterkarabakh import data; data.validate()"],
            cwd=paths.ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def _on_config_inited(app, config) -> None:
    global _validating
    _start_making_the_bundle(Path(app.outdir))
    checked, bib, stamp, fingerprint = _data_checked_for(app.confdir)
    # Validation and the bibliography cost seconds; a no-change rebuild should not pay them.
    if not checked:
        from .. import data

        if _validating is not None:
            _validating.wait()
            _validating = None
        data.validate()  # a broken data package stops the build before any notebook runs
        _write_if_changed(bib, bibtex_from_registry())
        stamp.write_text(fingerprint)
    os.environ["AFTERKARABAKH_BOOK_BUILD"] = "1"
    uses = Path(app.outdir).parent / ".cache" / "data-uses"
    uses.mkdir(parents=True, exist_ok=True)
    os.environ[paths.DATA_USES_ENV] = str(uses)  # inherited by every kernel the build starts
    # The book's stylesheet ships with the package, not in a top-level _static folder.
    config.html_static_path = list(config.html_static_path) + [str(paths.PACKAGE / "static")]
    config.html_favicon = str(paths.PACKAGE / "static" / "favicon.svg")


CHAPTER_MODULES = paths.PACKAGE / "chapters"


def dependency_files() -> list[Path]:
    """The files every notebook's output depends on besides its own cells and what its kernel
    reads: the data package's descriptor and the shared package's code."""
    shared = [p for p in paths.PACKAGE.rglob("*.py") if p.parent != CHAPTER_MODULES]
    return [paths.DATAPACKAGE, *sorted(shared), CHAPTER_MODULES / "__init__.py"]


def _uses_log(app) -> Path:
    """Where the kernel that this Sphinx process starts lists the data files it reads."""
    return Path(app.outdir).parent / ".cache" / "data-uses" / f"{os.getpid()}.txt"


def files_used(log: Path) -> list[Path]:
    """The data files and chapter modules a notebook's kernel read, from its list; every data file
    and every chapter module when it left none (so a page is never kept stale by mistake)."""
    if not log.exists():
        every = [p for p in paths.DATA.rglob("*") if p.is_file()]
        return sorted(every + list(CHAPTER_MODULES.glob("*.py")))
    return sorted({Path(line) for line in log.read_text(encoding="utf-8").splitlines() if line})


def _is_notebook(app, docname: str) -> bool:
    return str(app.env.doc2path(docname)).endswith(".ipynb")


def _on_source_read(app, docname, source) -> None:
    if not _is_notebook(app, docname):
        return
    _uses_log(app).unlink(missing_ok=True)  # the kernel about to run starts a fresh list
    for file in dependency_files():
        app.env.note_dependency(str(file))


def _on_doctree_read(app, doctree) -> None:
    """After a notebook ran: it depends on exactly the data files and chapter modules it used."""
    docname = app.env.docname
    if not _is_notebook(app, docname):
        return
    log = _uses_log(app)
    for file in files_used(log):
        app.env.note_dependency(str(file))
    log.unlink(missing_ok=True)


def _vendor_js_name() -> str:
    """Named after the packages that produce the bundle, read without importing them (fast)."""
    return f"{VENDOR_DIR}/{paths.vega_bundle_name()}"


def _is_thebe(asset) -> bool:
    return "thebe" in str(asset).lower() or "THEBE" in str(
        getattr(asset, "attributes", {}).get("body", "")
    )


def _is_design(asset) -> bool:
    name = str(getattr(asset, "filename", asset))
    return "sphinx-design" in name or "design-tabs" in name


RENDERER_JS = "afterkarabakh-charts.js"
ICONS_CSS = "afterkarabakh-icons.css"
#: Icon-font classes that are modifiers, not icons.
FA_MODIFIERS = {
    "fa",
    "fas",
    "far",
    "fab",
    "fa-solid",
    "fa-regular",
    "fa-brands",
    "fa-lg",
    "fa-sm",
    "fa-xs",
    "fa-fw",
    "fa-2x",
    "fa-3x",
    "fa-spin",
    "fa-pulse",
    "fa-border",
    "fa-inverse",
    "fa-stack",
}


def _icon_paths(fontawesome_js: str, names) -> dict:
    """SVG (width, height, path) of each named icon, read from the theme's own fontawesome.js."""
    found = {}
    for name in names:
        match = re.search(
            r'(?:"{0}"|[,{{]{0}):\[(\d+),(\d+),\[[^\]]*\],"[0-9a-f]+","([^"]+)"\]'.format(
                re.escape(name)
            ),
            fontawesome_js,
        )
        if match:
            found[name] = (int(match.group(1)), int(match.group(2)), match.group(3))
    return found


def icons_css(fontawesome_js: str, names) -> str:
    """Each icon as a CSS mask of its SVG path, so pages need neither the icon script nor the icon font."""
    rules = [
        ".fa-solid::before, .fas::before, .fa-regular::before, .far::before, .fa-brands::before, .fab::before "
        '{ content: "" !important; display: inline-block !important; position: static !important; width: 1em; height: 1em; '
        "vertical-align: -0.125em; background-color: currentColor; "
        "-webkit-mask: var(--ak-icon) center / contain no-repeat; mask: var(--ak-icon) center / contain no-repeat; }"
    ]
    icons = _icon_paths(fontawesome_js, [n[3:] if n.startswith("fa-") else n for n in names])
    for name, (width, height, path) in sorted(icons.items()):
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"><path d="{path}"/></svg>'
        url = "data:image/svg+xml," + urllib.parse.quote(svg, safe=" /:=")
        rules.append(
            f'.fa-{name}::before {{ --ak-icon: url("{url}"); width: {width / height:.3f}em; }}'
        )
    return (
        "/* Generated by afterkarabakh.book.sphinxext from the theme's icon paths (Font Awesome Free, CC BY 4.0). */\n"
        + "\n".join(rules)
        + "\n"
    )


_FONTAWESOME_TAG = re.compile(
    r'\s*<(?:script defer|link rel="preload" as="script" href)=?[^>]*?fontawesome\.js[^>]*>(?:</script>)?'
)
_SEARCH_TAG = re.compile(
    r'\s*<script src="[^"]*(?:searchtools|language_data|searchindex)\.js"></script>'
)
_ICON_FONT_RULE = re.compile(
    r'\.fa-[a-z0-9-]+:before\{content:"[^"]*"\}|@font-face\{[^}]*(?:Font Awesome|fa-)[^}]*\}'
)


#: Controls whose accessible name (aria-label) does not contain the words they show (WCAG 2.5.3,
#: "label in name"): the theme's search button (it shows "Search" and its keyboard shortcut) and
#: MyST-NB's toggles of hidden code ("Show code cell source"). Without the label their name is
#: what they show; the shortcut is hidden from screen readers, which announce it otherwise.
_SEARCH_BUTTON_LABEL = re.compile(
    r'(<button class="btn search-button-field[^"]*"[^>]*?) aria-label="Search"'
)
_SEARCH_SHORTCUT = '<span class="search-button__kbd-shortcut">'
_TOGGLE_LABEL = '<summary aria-label="Toggle hidden content">'


#: Sphinx's and the themes' scripts that the head loads one by one before the page can paint. They
#: act once the page is read (on DOMContentLoaded), so they load deferred, in the same order; the
#: tiny ``documentation_options.js``, which inline scripts of the head extend, comes inline.
_BLOCKING_SCRIPT = re.compile(
    r'<script src="([^"]*_static/(?:doctools|sphinx_highlight|clipboard\.min|copybutton|togglebutton'
    r'|design-tabs|scripts/sphinx-book-theme)\.js(?:\?v=[0-9a-f]+)?)"></script>'
)
#: The theme preloads its two deferred scripts, which then share the network with the stylesheets
#: the first paint waits for; deferred at the end of the head, they load soon enough.
_SCRIPT_PRELOAD = re.compile(r'\s*<link rel="preload" as="script" href="[^"]*"\s*/?>')
_OPTIONS_SCRIPT = re.compile(
    r'<script src="[^"]*_static/documentation_options\.js(?:\?v=[0-9a-f]+)?"></script>'
)


def lighten_page(text: str, is_search_page: bool, documentation_options: str | None = None) -> str:
    """The built page without the icon script, the search index (outside search), deprecated
    roles and labels that do not match what their controls show; outside the search page (whose
    search runs as it loads) Sphinx's scripts no longer hold up its first paint."""
    text = _FONTAWESOME_TAG.sub("", text)
    if not is_search_page:  # the search box sends readers to the search page, which loads them
        text = _SEARCH_TAG.sub("", text)
        text = _BLOCKING_SCRIPT.sub(r'<script defer="defer" src="\1"></script>', text)
        text = _SCRIPT_PRELOAD.sub("", text)
        if documentation_options is not None:
            text = _OPTIONS_SCRIPT.sub(
                lambda _: f"<script>{documentation_options.strip()}</script>", text
            )
    text = text.replace('role="doc-biblioentry"', 'role="listitem"')
    text = _SEARCH_BUTTON_LABEL.sub(r"\1", text)
    text = text.replace(
        _SEARCH_SHORTCUT, '<span class="search-button__kbd-shortcut" aria-hidden="true">'
    )
    text = text.replace(_TOGGLE_LABEL, "<summary>")
    return text


def _css_blocks(css: str):
    """Top-level (prelude, body) pairs of a stylesheet; body is None for a statement like @charset."""
    i, n = 0, len(css)
    while i < n:
        brace = css.find("{", i)
        if brace < 0:
            if css[i:].strip():
                yield css[i:], None
            return
        semicolon = css.find(";", i, brace)
        if semicolon >= 0 and css[i:semicolon].lstrip().startswith("@"):
            yield css[i : semicolon + 1], None
            i = semicolon + 1
            continue
        depth, k = 1, brace + 1
        while depth and k < n:
            depth += {"{": 1, "}": -1}.get(css[k], 0)
            k += 1
        yield css[i:brace], css[brace + 1 : k - 1]
        i = k


def _split_selectors(prelude: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(prelude):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(prelude[start:index])
            start = index + 1
    parts.append(prelude[start:])
    return parts


def purge_css(css: str, tokens: set) -> str:
    """The stylesheet without selectors that name a class no page and no script of the book uses.

    Conservative: classes inside :not(), :is(), :where(), :has() and attribute selectors never
    condemn a selector; at-rules other than @media, @supports and @layer are kept whole.
    """
    out = []
    for prelude, body in _css_blocks(css):
        head = prelude.strip()
        if body is None:
            out.append(prelude)
        elif head.startswith(("@media", "@supports", "@layer")):
            inner = purge_css(body, tokens)
            if inner.strip():
                out.append(f"{head}{{{inner}}}")
        elif head.startswith("@"):
            out.append(f"{head}{{{body}}}")
        else:
            alive = []
            for selector in _split_selectors(head):
                bare = re.sub(
                    r"\([^()]*\)|\[[^\]]*\]",
                    "",
                    re.sub(r"\([^()]*\([^()]*\)[^()]*\)", "", selector),
                )
                if all(name in tokens for name in re.findall(r"\.(-?[_a-zA-Z][\w-]*)", bare)):
                    alive.append(selector.strip())
            if alive:
                out.append(f"{','.join(alive)}{{{body}}}")
    return "".join(out)


def _scan(file: Path, outdir: Path, is_page: bool, options: str | None = None) -> dict:
    """Lighten a built page in place; the words (and icon names) of a page or script."""
    original = file.read_text(encoding="utf-8", errors="ignore")
    icons = []
    if is_page:
        icons = sorted(
            {c for c in re.findall(r"\bfa-[a-z0-9-]+", original) if c not in FA_MODIFIERS}
        )
        lightened = lighten_page(
            original, file.name == "search.html" and file.parent == outdir, options
        )
        if lightened != original:
            file.write_text(lightened, encoding="utf-8")
            original = lightened
    stat = file.stat()
    return {
        "signature": [stat.st_mtime_ns, stat.st_size],
        "tokens": sorted(set(re.findall(r"[\w-]+", original))),
        "icons": icons,
    }


_CSS_IMPORT_ONLY = re.compile(r'\s*(?:/\*.*?\*/\s*)*@import\s+"([^"]+)";\s*', re.S)


def _inline_css_import(css_file: Path) -> None:
    """A stylesheet that only imports another (the theme's ``theme.css`` imports ``basic.css``)
    becomes that stylesheet, so the page's first paint waits for one request, not two in a row."""
    if not css_file.exists():
        return
    match = _CSS_IMPORT_ONLY.fullmatch(css_file.read_text(encoding="utf-8"))
    if match:
        imported = (css_file.parent / match.group(1)).resolve()
        if imported.is_file():
            css_file.write_text(imported.read_text(encoding="utf-8"), encoding="utf-8")


def _lighten_build(outdir: Path) -> None:
    """Lighten every page written by this build and purge the theme's CSS of unused selectors.

    What each page and script holds is kept in ``_build/.cache/page-words.json`` with the file's
    size and date, so a build that wrote two pages reads two pages, not the whole book.
    """
    import json

    static = outdir / "_static"
    cache_file = outdir.parent / ".cache" / "page-words.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    scanned = {}
    options_js = static / "documentation_options.js"
    options = options_js.read_text(encoding="utf-8") if options_js.exists() else None
    if options is not None and "</" in options:
        options = None  # never inline what could close the script tag
    _inline_css_import(static / "styles" / "theme.css")
    pages = [p for p in outdir.rglob("*.html")]
    scripts = [p for p in static.rglob("*.js") if p.name != "fontawesome.js"]
    for file in [*pages, *scripts]:
        key = str(file.relative_to(outdir))
        stat = file.stat()
        known = cache.get(key)
        if known and known["signature"] == [stat.st_mtime_ns, stat.st_size]:
            scanned[key] = known
        else:
            scanned[key] = _scan(file, outdir, is_page=file.suffix == ".html", options=options)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(scanned), encoding="utf-8")
    # Every word of every page and script: a class named nowhere in them styles nothing.
    tokens = {t for entry in scanned.values() for t in entry["tokens"]}
    names = {n for entry in scanned.values() for n in entry["icons"]}
    for theme_css in [static / "styles" / "pydata-sphinx-theme.css", *static.glob("mystnb.*.css")]:
        if not theme_css.exists():
            continue
        css = theme_css.read_text(encoding="utf-8")
        # The icon font's glyph rules and faces (the icons are masks now), then unused selectors.
        slim = re.sub(
            r"/\*# sourceMappingURL=[^*]*\*/", "", purge_css(_ICON_FONT_RULE.sub("", css), tokens)
        )
        if slim != css:
            theme_css.write_text(slim, encoding="utf-8")
    fontawesome = static / "scripts" / "fontawesome.js"
    if fontawesome.exists():
        _write_if_changed(
            static / ICONS_CSS, icons_css(fontawesome.read_text(encoding="utf-8"), names)
        )


#: Shortest paragraph taken as a page's description, and the longest description search engines show.
_DESCRIPTION_MIN, _DESCRIPTION_MAX = 40, 160


def page_description(doctree) -> str:
    """The page's first paragraph of prose (not a caption, table, admonition or notebook cell's
    output), cut at a word to the length search engines show."""
    from docutils import nodes

    if doctree is None:
        return ""
    skip = (nodes.admonition, nodes.caption, nodes.table, nodes.figure, nodes.footnote)
    for paragraph in doctree.findall(nodes.paragraph):
        parent, inside = paragraph.parent, False
        while parent is not None:
            if isinstance(parent, skip) or (
                isinstance(parent, nodes.container) and parent.get("nb_element")
            ):
                inside = True
                break
            parent = parent.parent
        text = " ".join(paragraph.astext().split())
        if inside or len(text) < _DESCRIPTION_MIN:
            continue
        if len(text) > _DESCRIPTION_MAX:
            text = text[: _DESCRIPTION_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:–—-") + "…"
        return text
    return ""


#: Without JavaScript a chart stays a still image: shown whole, scaled to the column.
NOSCRIPT_STYLE = (
    "<noscript><style>div.ak-static img { max-width: 100% !important; height: auto !important; }"
    " div.ak-tools:empty { display: none; }</style></noscript>"
)
_STATIC_IMAGE = re.compile(re.escape("_ak_charts_/") + r"([0-9a-f]+(?:-dark)?\.svg)")


def _static_images(app, body: str, pathto) -> str:
    """The chart images' addresses relative to the page; each image copied into _static/charts."""
    from .. import stills

    names = set(_STATIC_IMAGE.findall(body))
    if not names:
        return body
    target = Path(app.outdir) / "_static" / "charts"
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not (target / name).exists():
            partial = target / f"{name}.{os.getpid()}.tmp"
            partial.write_bytes((stills.CACHE / name).read_bytes())
            partial.replace(target / name)
    prefix = pathto("_static/charts/", 1)
    return body.replace("_ak_charts_/", prefix if prefix.endswith("/") else prefix + "/")


def _on_page_context(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body", "")
    if "ak-chart" in body:
        # The renderer loads (deferred) after the text; it fetches the Vega bundle itself when a
        # chart first comes near the screen, so the bundle never delays the first paint.
        bundle = context["pathto"]("_static/" + _vendor_js_name(), 1)
        app.add_js_file(
            RENDERER_JS, priority=101, loading_method="defer", **{"data-ak-bundle": bundle}
        )
        context["body"] = body = _static_images(app, body, context["pathto"])
        context["metatags"] = context.get("metatags", "") + NOSCRIPT_STYLE
    description = page_description(doctree)
    if description:
        context["metatags"] = (
            context.get("metatags", "")
            + f'\n<meta name="description" content="{html.escape(description)}" />'
        )
    # Jupyter Book always loads sphinx-thebe, whose inline script points at a CDN and is
    # declared twice (a console error); the book has no live code, so drop it.
    # In place: the context shares these lists with the builder, which resets them for every page.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [
                asset
                for asset in context[key]
                if not _is_thebe(asset) and ('class="sd-' in body or not _is_design(asset))
            ]


class RobustBibliography(SphinxPostTransform):
    """Each bibliography entry's address becomes a Robust Link followed by its archive link.

    Runs after sphinxcontrib-bibtex has written the entries (its priority 5) and before
    references are resolved (10); each entry is found by its registry id, so its date and
    archive address come from the registry, built by :mod:`afterkarabakh.archive`.
    """

    default_priority = 6
    formats = ("html",)

    def run(self, **kwargs) -> None:
        from docutils import nodes

        from .. import archive, data

        keys = {c.citation_id: c.key for c in self.env.get_domain("cite").citations}
        registry = data.sources()
        for entry in self.document.findall(nodes.citation):
            key = keys.get(entry["ids"][0]) if entry["ids"] else None
            if key not in registry.index:
                continue
            url, accessed = registry.loc[key, "url"], registry.loc[key, "date_accessed"]
            for link in list(entry.findall(nodes.reference)):
                if link.get("refuri") == url:  # the date read is in the entry's note already
                    robust = archive.citation_html(url, accessed, url, dated=False)
                    link.replace_self(nodes.raw("", robust, format="html"))


#: The column the served registry gains: the archive's address for each source (never typed).
ARCHIVE_COLUMN = {
    "name": "archive_url",
    "type": "string",
    "format": "uri",
    "description": "The Internet Archive's Wayback Machine address for its copy of the page nearest "
    "the day it was read (made from url and date_accessed when the book is built; the archive "
    "opens its nearest copy where it holds one, and says so where it holds none).",
}


def serve_registry(folder: Path) -> None:
    """The book's copy of the data package: its registry gains ``archive_url`` (and its
    descriptor the field), so a reader who downloads the sources has the archive's addresses."""
    import csv
    import io
    import json

    from .. import archive

    registry, descriptor = folder / "sources.csv", folder / "datapackage.json"
    with registry.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = [*rows[0], ARCHIVE_COLUMN["name"]] if rows else []
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {**row, "archive_url": archive.archive_url(row["url"], row["date_accessed"])}
        )
    registry.write_text(out.getvalue(), encoding="utf-8")
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    schema = next(r for r in package["resources"] if r["name"] == "sources")["schema"]
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "archive_url"] + [
        ARCHIVE_COLUMN
    ]
    descriptor.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", "utf-8")


#: The book's front door (``index.html``): it sends the reader on to the first page. The page
#: Sphinx's table-of-contents extension writes is a bare refresh, with no icon, so a browser
#: asked the server for ``/favicon.ico``, which the book does not have, whenever it got there
#: before the refresh.
FRONT_DOOR = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Refresh" content="0; url={first}">
<title>{title}</title>
<link rel="icon" href="_static/{icon}">
</head>
<body><p><a href="{first}">{title}</a></p></body>
</html>
"""


def _write_the_front_door(app) -> None:
    from . import citing

    first = f"{app.config.root_doc}.html"
    _write_if_changed(
        Path(app.outdir) / "index.html",
        FRONT_DOOR.format(
            first=html.escape(first),
            title=html.escape(citing.book_config()["title"]),
            icon=html.escape(Path(app.config.html_favicon).name),
        ),
    )


def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    _write_the_front_door(app)
    _lighten_build(Path(app.outdir))
    # The data files, so the appendix's download links work from the built book.
    shutil.copytree(paths.DATA, Path(app.outdir) / "data", dirs_exist_ok=True)
    serve_registry(Path(app.outdir) / "data")
    target = Path(app.outdir) / "_static" / _vendor_js_name()
    if not target.exists():  # versioned name: present means current
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_the_bundle(target)


def _write_the_bundle(target: Path) -> None:
    """The Vega bundle, as the process started for it made it (or made here, if it failed)."""
    global _bundle_maker
    if _bundle_maker is not None:
        _bundle_maker.wait()
        _bundle_maker = None
    if paths.vega_bundle_cached().exists():
        shutil.copyfile(paths.vega_bundle_cached(), target)
        return
    from .. import charts  # Altair and pandas: only when the bundle must be made here

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


def _stem_each_word_once(app) -> None:
    """The search index stems every word of every page it writes (about 31,000 for the book)
    with a Porter stemmer written in Python, in the main process, page after page, with no
    memory of the words it has stemmed; most are words it has met before. A stem depends on the
    word alone (in lower case), so remembering each one changes nothing in the index."""
    from sphinx.search.en import SearchEnglish

    if getattr(SearchEnglish.stem, "remembers", False):
        return
    stem = SearchEnglish.stem

    @functools.cache
    def stem_lowercase(language, word: str) -> str:
        return stem(language, word)

    def remembered(language, word: str) -> str:
        return stem_lowercase(language, word.lower())

    remembered.remembers = True
    SearchEnglish.stem = remembered


#: Pages Sphinx read (and so notebooks executed) in this process's builds: the build stops the
#: processes it started for kernels at once when there were none (see ``build._stop_service``).
pages_read = 0


def _note_pages_to_read(app, env, docnames) -> None:
    global pages_read
    app.afterkarabakh_pages_read = len(docnames)
    pages_read += len(docnames)


def _keep_formatted_bibliography(app) -> None:
    """sphinxcontrib-bibtex formats every entry of the registry (550-odd) after each read, even
    when no page was read; its result is kept with the environment, so reuse it then (a changed
    bibliography file makes the pages that cite it be read again, and so is formatted anew)."""
    from sphinxcontrib.bibtex.domain import BibtexDomain

    format_all = BibtexDomain.env_updated
    if getattr(format_all, "afterkarabakh", False):
        return

    def env_updated(domain):
        if getattr(domain.env.app, "afterkarabakh_pages_read", 1) == 0 and domain.citations:
            return []
        with _each_entry_formatted_once():
            return format_all(domain)

    env_updated.afterkarabakh = True
    BibtexDomain.env_updated = env_updated


@contextlib.contextmanager
def _each_entry_formatted_once():
    """sphinxcontrib-bibtex formats each entry twice, for the bibliography and for its links'
    tooltip, with the same style and label (``bibtex_tooltips_style`` is unset); the second time
    now reuses the first's result, which neither use changes."""
    from pybtex.style.formatting import BaseStyle

    format_entry = BaseStyle.format_entry
    formatted: dict = {}

    def once(style, label, entry, bib_data=None):
        key = (id(style), label, id(entry), id(bib_data))
        if key not in formatted:  # the objects are kept with the result, so no id is reused
            result = format_entry(style, label, entry, bib_data=bib_data)
            formatted[key] = (result, style, entry, bib_data)
        return formatted[key][0]

    BaseStyle.format_entry = once
    try:
        yield
    finally:
        BaseStyle.format_entry = format_entry


class _DoctreesReadOnce:
    """The build environment, seen by a numbered reference (``{numref}``) while it is resolved.

    Sphinx resolves each of the pages' 76 numbered references by unpickling the whole doctree
    of the page that holds the figure, only to look the figure's node up by its id (a second
    of the serial writing phase). Through this view each page's doctree is unpickled once per
    build; the reference only reads it. Everything else is the environment itself.
    """

    def __init__(self, env, doctrees: dict):
        self._env, self._doctrees = env, doctrees

    def __getattr__(self, name):
        return getattr(self._env, name)

    def get_doctree(self, docname: str):
        if docname not in self._doctrees:
            self._doctrees[docname] = self._env.get_doctree(docname)
        return self._doctrees[docname]


def _numbered_references_read_each_doctree_once() -> None:
    from sphinx.domains.std import StandardDomain

    resolve = StandardDomain._resolve_numref_xref
    if getattr(resolve, "afterkarabakh", False):
        return

    @functools.wraps(resolve)
    def resolve_numref(self, env, *args, **kwargs):
        # Doctrees are written while pages are read, so one build's writing phase reads the same.
        doctrees = env.app.builder.__dict__.setdefault("_afterkarabakh_numref_doctrees", {})
        return resolve(self, _DoctreesReadOnce(env, doctrees), *args, **kwargs)

    resolve_numref.afterkarabakh = True
    StandardDomain._resolve_numref_xref = resolve_numref


#: What nbclient raises when a kernel exits before it answers its first request.
_KERNEL_DIED_AT_START = "Kernel died before replying to kernel_info"


def _start_a_kernel_that_dies_at_start_once_more() -> None:
    """A kernel that dies before answering its first request is started once more, with new
    ports. jupyter_client picks a kernel's ports free and lets them go before the kernel binds
    them, so a process starting at the same moment can take one (jupyter_client issue 487): the
    kernel cannot bind it and exits, and nbclient fails the page although none of its cells ran.
    Nothing of the notebook has run when this happens, so starting again changes no output.
    """
    from nbclient import NotebookClient

    start_client = NotebookClient.async_start_new_kernel_client
    if getattr(start_client, "afterkarabakh", False):
        return

    @functools.wraps(start_client)
    async def start_client_once_more_if_the_kernel_died(self):
        try:
            return await start_client(self)
        except RuntimeError as error:
            if _KERNEL_DIED_AT_START not in str(error) or not self.owns_km:
                raise  # something else, or a kernel manager nbclient was given (not its to replace)
        self.log.warning("The kernel exited before it answered; starting it again.")
        self.km = self.create_kernel_manager()  # nbclient let the dead kernel's manager go
        await self.async_start_new_kernel()
        return await start_client(self)

    start_client_once_more_if_the_kernel_died.afterkarabakh = True
    NotebookClient.async_start_new_kernel_client = start_client_once_more_if_the_kernel_died


def _take_a_ready_kernel_without_waiting_for_quiet() -> None:
    """A new kernel is used as soon as it has answered. jupyter_client, once the kernel has
    replied on both channels, still reads its output channel until nothing has come for 0.2 s, to
    drop the messages the kernel sent while it started. nbclient needs no such wait: it takes a
    cell's outputs by the request they answer and skips every other message. So the wait now
    takes what has arrived and stops: 0.2 s less idle per notebook, about 1.4 s of a clean build
    (the output identical). The check that the output channel is connected is unchanged."""
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_core.utils import ensure_async

    wait_for_ready = AsyncKernelClient.wait_for_ready
    if getattr(wait_for_ready, "afterkarabakh", False):
        return

    @functools.wraps(wait_for_ready)
    async def wait_for_ready_then_take_what_has_arrived(self, timeout=None):
        channel = self.iopub_channel
        get_msg = channel.get_msg
        connected = False

        async def get_msg_without_waiting_once_connected(timeout=None):
            nonlocal connected
            message = await ensure_async(get_msg(timeout=0 if connected else timeout))
            connected = True
            return message

        channel.get_msg = get_msg_without_waiting_once_connected
        try:
            await wait_for_ready(self, timeout)
        finally:
            del channel.get_msg

    wait_for_ready_then_take_what_has_arrived.afterkarabakh = True
    AsyncKernelClient.wait_for_ready = wait_for_ready_then_take_what_has_arrived


def _remember_bibliography_plugins() -> None:
    """pybtex looks its plugins up among the installed packages' entry points on every citation
    (sphinxcontrib-bibtex asks once per reference: seconds of a build spent scanning package
    metadata); each is now looked up once per build. Runtime registrations still come first."""
    from pybtex import plugin

    if getattr(plugin._load_entry_point, "remembered", False):
        return
    found: dict = {}

    def load_entry_point(group, name, use_aliases=False):
        for search_group in [group, group + ".aliases"] if use_aliases else [group]:
            klass = plugin._RUNTIME_PLUGINS.get(search_group, {}).get(name)
            if klass is not None:
                return klass
            if (search_group, name) not in found:
                found[(search_group, name)] = next(
                    (e.load() for e in plugin.entry_points(group=search_group, name=name)), None
                )
            if found[(search_group, name)] is not None:
                return found[(search_group, name)]
        raise plugin.PluginNotFound(group, name)

    load_entry_point.remembered = True
    plugin._load_entry_point = load_entry_point


def setup(app):
    _remember_bibliography_plugins()
    _numbered_references_read_each_doctree_once()
    _start_a_kernel_that_dies_at_start_once_more()
    _take_a_ready_kernel_without_waiting_for_quiet()
    app.connect("builder-inited", _declare_parallel_safe)
    app.connect("builder-inited", _stem_each_word_once)
    app.connect("builder-inited", _keep_formatted_bibliography)
    app.connect("env-before-read-docs", _note_pages_to_read)
    app.add_post_transform(RobustBibliography)
    app.add_css_file("afterkarabakh.css")
    app.add_css_file(ICONS_CSS)
    app.connect("config-inited", _on_config_inited)
    app.connect("source-read", _on_source_read)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("html-page-context", _on_page_context, priority=900)
    app.connect("build-finished", _on_build_finished)
    app.setup_extension(
        "afterkarabakh.book.citing"
    )  # "How to cite this chapter" on each chapter page
    app.setup_extension("afterkarabakh.book.figures")  # every chart a numbered, referable figure
    app.setup_extension("afterkarabakh.book.downloads")  # the edition, the data zip, figure list
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
