"""The charts' still images (:mod:`afterkarabakh.stills`): the same image whichever charts were
drawn before it, drawn for the build's kernels by its drawers (:mod:`afterkarabakh.book.drawers`),
and drawn by the kernel itself when they cannot (none runs, or the spec is faulty: the kernel
then raises the error)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import vl_convert

from afterkarabakh import charts, stills, theme
from afterkarabakh.book import build


def _clipped_chart(title: str) -> dict:
    """A small chart whose marks are clipped (Vega numbers the clip path from its engine's counter)."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": f"Two points ({title})",
        "usermeta": {"afterkarabakh": {"title": title}},
        "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 1}]},
        "mark": {"type": "point", "clip": True},
        "encoding": {
            "x": {"field": "x", "type": "quantitative"},
            "y": {"field": "y", "type": "quantitative"},
        },
    }


def _draw(spec: dict) -> str:
    return vl_convert.vegalite_to_svg(spec, vl_version=charts.vega_lite_version())


def test_a_still_is_the_same_whatever_the_engine_drew_before():
    spec = _clipped_chart("First")
    before = _draw(spec)
    _draw(_clipped_chart("Another"))
    after = _draw(spec)
    assert before != after, "the engine's clip counter did not move: nothing is tested"
    assert stills.finished(before, "t", "d") == stills.finished(after, "t", "d")
    assert 'clip-path="url(#clip1)"' in stills.finished(after, "t", "d")


@pytest.fixture
def stills_service(tmp_path, monkeypatch):
    socket_path = tmp_path / "stills"
    process = build.start_service(
        "afterkarabakh.book.drawers",
        socket_path,
        [sys.executable],
        "2",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    monkeypatch.setenv(stills.SOCKET_ENV, str(socket_path))
    yield
    process.stdin.close()
    assert process.wait(timeout=60) == 0


def _new_chart() -> dict:
    # A title never drawn before: a key with no images in the cache yet.
    return charts._lean(_clipped_chart(f"Test chart {uuid.uuid4().hex}"))


def test_the_builds_drawers_draw_a_kernels_still_images(stills_service, monkeypatch):
    spec = _new_chart()

    def not_here(*_):
        raise AssertionError("the kernel drew the images itself")

    with monkeypatch.context() as patch:
        patch.setattr(stills, "draw", not_here)
        key, width, height = charts.static_images(spec)
        light, dark = stills.images(key)
        served = light.read_text(encoding="utf-8"), dark.read_text(encoding="utf-8")
        for image in (light, dark):
            image.unlink()
        assert charts.static_images(spec) == (key, width, height)  # drawn again, by a drawer
    try:
        assert width > 0 and height > 0
        assert theme.DARK_BACKGROUND in served[1] and theme.DARK_BACKGROUND not in served[0]
        for image in (light, dark):
            image.unlink()
        monkeypatch.delenv(stills.SOCKET_ENV)
        charts.static_images(spec)  # drawn here: the same images
        assert (light.read_text(encoding="utf-8"), dark.read_text(encoding="utf-8")) == served
    finally:
        for image in (light, dark):
            image.unlink(missing_ok=True)


def test_a_faulty_chart_fails_in_the_kernel_that_drew_it(stills_service):
    spec = {**_new_chart(), "mark": "no such mark"}
    with pytest.raises(ValueError):
        charts.static_images(spec)
    key, width, height = charts.static_images(_new_chart())  # the drawers still serve
    try:
        assert width > 0 and height > 0
    finally:
        for image in stills.images(key):
            image.unlink(missing_ok=True)


def test_a_kernel_draws_its_own_still_images_when_no_drawer_serves_them(tmp_path, monkeypatch):
    monkeypatch.setenv(stills.SOCKET_ENV, str(tmp_path / "nobody-listens"))
    key, width, height = charts.static_images(_new_chart())
    try:
        assert all(image.exists() for image in stills.images(key)) and width > 0 and height > 0
    finally:
        for image in stills.images(key):
            image.unlink(missing_ok=True)
