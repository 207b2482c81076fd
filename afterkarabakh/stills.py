"""The charts' still images: each chart drawn at build time by vl-convert, for the light and the
dark page, and kept by content in ``_build/.cache/charts`` (the key: the spec, the versions that
draw it and the post-processing here). A page shows one at once until the renderer draws the
interactive chart (see :mod:`afterkarabakh.charts`).

This module imports neither Altair nor pandas: the book build's drawers
(:mod:`afterkarabakh.book.drawers`), which draw for every kernel of a build, need only this and
vl-convert.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Callable
from functools import lru_cache

from . import paths

CACHE = paths.ROOT / "_build" / ".cache" / "charts"
_FORMAT = "2"  # change when the post-processing below changes
#: Set by the book build: the socket of the drawers that draw still images for all its kernels
#: (:mod:`afterkarabakh.book.drawers`), so vl-convert's engine starts once per core, not per kernel.
SOCKET_ENV = "AFTERKARABAKH_STILLS_SOCKET"
#: A still image's key, as :func:`kept` makes it (the drawers check it).
KEY = re.compile(r"[0-9a-f]{20}")

_SVG_NOISE = re.compile(r' (?:role|aria-roledescription|aria-hidden|aria-label|class)="[^"]*"')
_SVG_GEOMETRY = re.compile(r' (d|transform)="([^"]*)"')
_LONG_DECIMAL = re.compile(r"(\d\.\d)\d+")
#: An element id that Vega numbers from a counter its engine keeps (``clip7``), with the places
#: that refer to it: its number depends on what the engine drew before.
_COUNTED_ID = re.compile(r'(id="|url\(#|href="#)([A-Za-z_-]*?)(\d+)(?=[")])')


def _renumbered(svg: str) -> str:
    """The SVG with Vega's counted ids numbered from 1 in their order in it: the same image
    whichever charts the engine drew before it (a drawer draws many charts of a build)."""
    numbers: dict[tuple[str, str], int] = {}
    per_name: dict[str, int] = {}

    def renumber(match: re.Match) -> str:
        name = match.group(2)
        if (name, match.group(3)) not in numbers:
            per_name[name] = per_name.get(name, 0) + 1
            numbers[name, match.group(3)] = per_name[name]
        return f"{match.group(1)}{name}{numbers[name, match.group(3)]}"

    return _COUNTED_ID.sub(renumber, svg)


def finished(svg: str, title: str, description: str) -> str:
    """vl-convert's SVG, lighter (no roles or classes, geometry to a tenth of a pixel), its
    counted ids renumbered, titled."""
    svg = _renumbered(_SVG_NOISE.sub("", svg))
    svg = _SVG_GEOMETRY.sub(
        lambda m: " " + m.group(1) + '="' + _LONG_DECIMAL.sub(r"\1", m.group(2)) + '"', svg
    )
    head_end = svg.index(">") + 1
    labels = (
        f'<title id="t">{html.escape(title)}</title><desc id="d">{html.escape(description)}</desc>'
    )
    head = svg[:head_end].replace("<svg ", '<svg role="img" aria-labelledby="t d" ', 1)
    return head + labels + svg[head_end:]


@lru_cache(maxsize=1)
def _drawing_versions() -> str:
    """The versions of Altair and vl-convert (read once: each look-up reads the installed metadata)."""
    from importlib.metadata import version

    return f"{version('altair')}|{version('vl-convert-python')}|{_FORMAT}"


def images(key: str):
    """The light and the dark page's image of the chart kept under ``key``."""
    return CACHE / f"{key}.svg", CACHE / f"{key}-dark.svg"


def draw(request: dict) -> None:
    """Draw a chart's two images and keep them under its key. ``request``: ``key``, ``light``
    and ``dark`` (the specs), ``title``, ``description`` and ``vl_version``. Kernels and drawers
    share the folder: each image is written whole under a name of its own, then renamed
    (atomic), so none reads half an image."""
    import vl_convert

    CACHE.mkdir(parents=True, exist_ok=True)
    for target, mode in zip(images(request["key"]), ("light", "dark")):
        svg = vl_convert.vegalite_to_svg(request[mode], vl_version=request["vl_version"])
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(finished(svg, request["title"], request["description"]), "utf-8")
        partial.replace(target)


def _drawn_by_the_build(payload: bytes) -> bool:
    """Whether the build's drawers drew the images (False: none runs, or it failed, and the
    caller draws them itself, where a faulty spec raises its own error)."""
    address = os.environ.get(SOCKET_ENV)
    if not address:
        return False
    import socket

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(300)
            conn.connect(address)
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            reply = b"".join(iter(lambda: conn.recv(4096), b""))
    except OSError:
        return False
    return reply == b"drawn"


def kept(
    spec: dict, dark_mode: Callable[[dict], dict], *, title: str, description: str, vl_version: str
) -> tuple[str, int, int]:
    """The key of the chart's two images (``spec`` and ``dark_mode(spec)``), drawn once per
    content, and their size in px."""
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    key = hashlib.sha256((spec_json + _drawing_versions()).encode()).hexdigest()[:20]
    light, dark = images(key)
    if not (light.exists() and dark.exists()):
        request = {
            "key": key,
            "light": spec,
            "dark": dark_mode(spec),
            "title": title,
            "description": description,
            "vl_version": vl_version,
        }
        if not _drawn_by_the_build(json.dumps(request).encode()):
            draw(request)
    head = light.read_text(encoding="utf-8")[:600]
    width = re.search(r'<svg[^>]* width="([\d.]+)"', head)
    height = re.search(r'<svg[^>]* height="([\d.]+)"', head)
    return key, round(float(width.group(1))), round(float(height.group(1)))
