"""The committed map layers in data/geo: readable, valid, plausible, untouched."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import geopandas as gpd
import pytest
from shapely.geometry import Point

from afterkarabakh.book import geobuild
from afterkarabakh.paths import GEO, ROOT

LAYERS = [geobuild.REGIONAL, geobuild.WORLD, geobuild.NK]
OUTPUTS = LAYERS + [geobuild.PROVENANCE]


@pytest.fixture(scope="module")
def regional():
    return gpd.read_file(GEO / geobuild.REGIONAL).set_index("iso_a3", drop=False)


@pytest.fixture(scope="module")
def provenance():
    return json.loads((GEO / geobuild.PROVENANCE).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", LAYERS)
def test_layer_reads_valid_nonempty_wgs84(name):
    gdf = gpd.read_file(GEO / name)
    assert len(gdf) > 0
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    assert gdf.geometry.notna().all()
    assert not gdf.geometry.is_empty.any()
    assert gdf.geometry.is_valid.all()
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_world_has_no_band_across_the_map():
    """An antimeridian jump read as a planar edge would span the whole map."""
    parts = gpd.read_file(GEO / geobuild.WORLD).explode()
    wide = parts[parts.bounds.maxx - parts.bounds.minx > 180]
    assert set(wide["name"]) <= {"Antarctica"}


@pytest.mark.parametrize("iso", sorted(geobuild.FOCUS))
def test_focus_countries_present(regional, iso):
    assert iso in regional.index
    assert bool(regional.loc[iso, "focus"]) is True


def test_only_focus_countries_are_focus(regional):
    assert set(regional.loc[regional["focus"], "iso_a3"]) == set(geobuild.FOCUS)


@pytest.mark.parametrize(
    "iso, lon, lat",
    [
        ("AZE", 45.40, 39.20),  # Nakhchivan exclave
        ("AZE", 49.85, 40.40),  # near Baku
        ("ARM", 44.51, 40.18),  # Yerevan
    ],
)
def test_places_fall_in_the_right_country(regional, iso, lon, lat):
    assert regional.loc[iso, "geometry"].contains(Point(lon, lat))


def test_nk_polygon_lies_inside_azerbaijan(regional):
    nk = gpd.read_file(GEO / geobuild.NK)
    assert len(nk) == 1
    assert nk.loc[0, "name"] == geobuild.NK_NAME
    shape = nk.geometry.iloc[0]
    inside = shape.intersection(regional.loc["AZE", "geometry"]).area / shape.area
    assert inside >= 0.95


@pytest.mark.parametrize("name", LAYERS)
def test_outputs_match_provenance(provenance, name):
    data = (GEO / name).read_bytes()
    recorded = provenance["outputs"][name]
    assert hashlib.sha256(data).hexdigest() == recorded["sha256"], f"{name} was edited by hand?"
    assert len(data) == recorded["bytes"]


def test_provenance_pins_the_package(provenance):
    assert provenance["package"] == {
        "name": geobuild.PACKAGE,
        "version": geobuild.VERSION,
        "tarball_sha256": geobuild.TARBALL_SHA256,
    }


@pytest.mark.network
def test_regeneration_is_byte_identical(tmp_path):
    if shutil.which("npm") is None:
        pytest.skip("npm is not on PATH: cannot fetch world-atlas to regenerate")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    subprocess.run(
        [sys.executable, "-m", "afterkarabakh.book.geobuild", "--out", str(tmp_path)],
        check=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == (GEO / name).read_bytes(), name


@pytest.mark.parametrize("name", [geobuild.REGIONAL, geobuild.WORLD])
@pytest.mark.parametrize("lon, lat", [(34.10, 44.95), (33.52, 44.60)])  # Simferopol, Sevastopol
def test_crimea_is_a_feature_of_its_own(name, lon, lat):
    """Natural Earth gives Crimea to Russia: the build splits it off, so no map draws it as Russian."""
    layer = gpd.read_file(GEO / name)
    holding = layer[layer.geometry.contains(Point(lon, lat))]
    assert list(holding["name"]) == ["Crimea"], (
        f"{name}: ({lon}, {lat}) lies in {list(holding['name'])}"
    )
    assert (holding["iso_a3"].fillna("") == "").all()


def test_disputed_splits_are_recorded(provenance):
    recorded = provenance["processing"]["disputed_splits"]
    assert set(recorded) == set(geobuild.DISPUTED_SPLITS)
    for name, split in geobuild.DISPUTED_SPLITS.items():
        assert recorded[name]["from_iso_a3"] == split["from"]
        assert recorded[name]["bbox"] == list(split["bbox"])
