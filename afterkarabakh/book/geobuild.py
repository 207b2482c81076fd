"""Build the report's map layers in ``data/geo`` from Natural Earth.

Run ``python -m afterkarabakh.book.geobuild [--out DIR]``.

Natural Earth is fetched through the npm package world-atlas, pinned by version
*and* by the tarball's sha256: the npm registry is reachable from every machine
the project runs on (CI included), and the checksum makes a changed upstream
file fail loudly instead of silently redrawing a border.

The output is byte-for-byte reproducible (no timestamps, sorted features, fixed
coordinate precision), so ``geo-provenance.json`` can record a checksum of each
file and the tests can tell a hand edit from a regeneration.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pycountry
import shapely
from shapely.affinity import translate
from shapely.geometry import Polygon, box, mapping
from shapely.geometry.polygon import orient

from afterkarabakh.paths import GEO

PACKAGE = "world-atlas"
VERSION = "2.0.2"
# sha256 of world-atlas-2.0.2.tgz as served by the npm registry.
TARBALL_SHA256 = "032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97"
INPUTS = ("countries-10m.json", "countries-110m.json")

BBOX = (26.0, 34.0, 56.0, 47.0)  # lon_min, lat_min, lon_max, lat_max
TOLERANCE = 0.01  # degrees (~1 km): invisible at the regional map's scale
DECIMALS = 4  # ~10 m: far below what a country map can show
FOCUS = frozenset({"ARM", "AZE", "GEO", "TUR", "IRN", "RUS"})

REGIONAL = "south_caucasus.geojson"
WORLD = "world_110m.geojson"
NK = "nagorno_karabakh_1994_2020.geojson"
PROVENANCE = "geo-provenance.json"

#: Disputed areas that Natural Earth's default countries give to one claimant, split off in this
#: step: each is the one polygon part of that state lying wholly inside its box (lon/lat degrees)
#: and becomes a feature of its own, with no ISO code, named as here. The book's maps draw it as
#: disputed, in neither claimant's colour (afterkarabakh.maps.DISPUTED).
DISPUTED_SPLITS = {
    "Crimea": {"from": "RUS", "bbox": (32.0, 44.0, 36.8, 46.3)},
}

NK_NAME = "Nagorno-Karabakh (de facto area of Armenian control, 1994–2020)"
NK_SOURCE_NOTE = (
    "Natural Earth ne_50m_admin_0_breakaway_disputed_areas, feature BRK_A3=B38, "
    "rounded to 3 decimals"
)
# Not in world-atlas, whose countries layer has no disputed areas. Copied from
# Appendix A of shared/research/SOURCES.md (lon,lat; closed ring; 73 vertices).
NK_RING = (
    "46.473,40.289;46.653,40.386;46.746,40.413;46.803,40.384;46.837,40.347;"
    "46.872,40.318;46.926,40.298;46.993,40.256;47.069,40.207;47.071,40.150;"
    "47.082,40.121;47.125,40.057;47.154,40.024;47.166,39.976;47.173,39.938;"
    "47.179,39.885;47.193,39.834;47.213,39.795;47.233,39.754;47.266,39.667;"
    "47.293,39.532;47.322,39.414;47.188,39.341;47.065,39.253;46.989,39.180;"
    "46.853,39.148;46.762,39.071;46.555,38.904;46.491,38.907;46.487,38.997;"
    "46.490,39.069;46.475,39.111;46.401,39.168;46.400,39.192;46.420,39.207;"
    "46.477,39.198;46.550,39.201;46.585,39.224;46.507,39.299;46.437,39.349;"
    "46.378,39.382;46.365,39.403;46.365,39.417;46.378,39.434;46.478,39.475;"
    "46.488,39.513;46.481,39.555;46.322,39.617;46.202,39.594;46.095,39.664;"
    "46.026,39.719;45.940,39.777;45.863,39.808;45.790,39.881;45.662,39.956;"
    "45.580,39.978;45.578,39.984;45.596,40.003;45.630,40.014;45.858,40.011;"
    "45.886,40.025;45.900,40.057;45.931,40.105;45.968,40.175;45.965,40.234;"
    "46.027,40.233;46.111,40.256;46.174,40.261;46.246,40.246;46.312,40.244;"
    "46.346,40.266;46.414,40.283;46.473,40.289"
)


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays free for piping."""
    print(f"geobuild: {message}", file=sys.stderr, flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_world_atlas(workdir: Path) -> dict[str, Path]:
    """Download the pinned tarball with ``npm pack``, check it, extract the inputs.

    ``npm pack`` is used rather than ``npm install`` because it only downloads
    the tarball: no node_modules, no lockfile, nothing to clean up.
    """
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("geobuild: `npm` is not on PATH; install Node.js/npm to fetch world-atlas.")
    log(f"fetching {PACKAGE}@{VERSION} with npm pack")
    result = subprocess.run(
        [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"geobuild: npm pack failed:\n{result.stderr.strip()}")
    tarball = workdir / f"{PACKAGE}-{VERSION}.tgz"
    digest = sha256(tarball)
    if digest != TARBALL_SHA256:
        sys.exit(f"geobuild: {tarball.name} has sha256 {digest}, expected {TARBALL_SHA256}")
    log(f"verified sha256 of {tarball.name}")
    paths = {}
    with tarfile.open(tarball) as tar:
        for name in INPUTS:
            # extractfile + write: no path from the archive is trusted as a path.
            paths[name] = workdir / name
            paths[name].write_bytes(tar.extractfile(f"package/{name}").read())
    return paths


def unwrap_antimeridian(geom):
    """Cut polygons that cross ±180° into two planar pieces.

    world-atlas is made for spherical rendering (d3-geo): a few rings (Russia's
    Chukotka and Wrangel Island, Fiji) cross the antimeridian as a jump from +180
    to -180. A planar library reads that jump as an edge across the whole map,
    and make_valid then turns it into a band round the world. Such a polygon is
    shifted into 0..360° (where it is continuous), repaired, cut at 180° and its
    eastern piece shifted back. Rings that jump an odd number of times go round
    a pole (Antarctica) and are left to make_valid.
    """
    pieces, changed = [], False
    for poly in shapely.get_parts(geom):
        rings = [poly.exterior, *poly.interiors]
        jumps = [
            np.count_nonzero(np.abs(np.diff(shapely.get_coordinates(r)[:, 0])) > 180) for r in rings
        ]
        if any(jumps) and all(j % 2 == 0 for j in jumps):
            changed = True
            shifted = shapely.transform(poly, lambda c: np.where(c[:, :1] < 0, c + [360.0, 0.0], c))
            shifted = shapely.make_valid(shifted, method="structure", keep_collapsed=False)
            west = shifted.intersection(box(-180, -90, 180, 90))
            east = translate(shifted.intersection(box(180, -90, 540, 90)), xoff=-360)
            pieces += [*shapely.get_parts(west), *shapely.get_parts(east)]
        else:
            pieces.append(poly)
    if not changed:
        return geom
    return shapely.multipolygons([p for p in pieces if p.geom_type == "Polygon" and not p.is_empty])


def read_countries(path: Path) -> gpd.GeoDataFrame:
    """Read world-atlas TopoJSON into valid polygons with ISO codes.

    world-atlas quantises coordinates, which leaves some rings self-touching,
    hence make_valid. The "structure" method keeps polygons polygonal (shells
    bound area, holes remove it) and drops parts that collapse to lines.
    """
    log(f"reading {path.name}")
    gdf = gpd.read_file(path, layer="countries").set_crs("EPSG:4326")
    gdf.geometry = gdf.geometry.apply(unwrap_antimeridian)
    gdf.geometry = gdf.geometry.make_valid(method="structure", keep_collapsed=False)
    gdf = gdf.dropna(subset=["geometry"])
    gdf = gdf[~gdf.geometry.is_empty].copy()
    gdf["ne_id"] = gdf["id"].fillna("")
    gdf["iso_a3"] = [pycountry.countries.get(numeric=i).alpha_3 if i else "" for i in gdf["ne_id"]]
    missing = sorted(gdf.loc[gdf["iso_a3"] == "", "name"])
    if missing:
        log(f"{len(missing)} features without an ISO code (kept): {', '.join(missing)}")
    return gdf[["iso_a3", "name", "ne_id", "geometry"]]


def split_disputed(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each area of DISPUTED_SPLITS cut out of the state Natural Earth gives it to, as its own feature.

    Exactly one polygon part of the state must lie inside the area's box: anything else means the
    upstream shapes changed, and the build stops rather than guess.
    """
    gdf = gdf.copy()
    added = []
    for name, split in DISPUTED_SPLITS.items():
        rows = gdf.index[gdf["iso_a3"] == split["from"]]
        assert len(rows) == 1, f"{name}: {len(rows)} features of {split['from']}"
        parts = list(shapely.get_parts(gdf.at[rows[0], "geometry"]))
        area = box(*split["bbox"])
        inside = [p for p in parts if area.contains(p)]
        assert len(inside) == 1, (
            f"{name}: {len(inside)} parts of {split['from']} inside {split['bbox']}"
        )
        kept = [p for p in parts if p is not inside[0]]
        gdf.at[rows[0], "geometry"] = shapely.multipolygons(kept) if len(kept) > 1 else kept[0]
        added.append({"iso_a3": "", "name": name, "ne_id": "", "geometry": inside[0]})
        log(f"split {name} from {split['from']} ({inside[0].area:.2f} square degrees)")
    extra = gpd.GeoDataFrame(added, geometry="geometry", crs=gdf.crs)
    return gpd.GeoDataFrame(pd.concat([gdf, extra], ignore_index=True), crs=gdf.crs)


def finish(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Round to DECIMALS, drop what vanished, sort, and check validity.

    set_precision snaps to the grid *and* keeps the geometry valid, which
    rounding each coordinate on its own would not.
    """
    gdf = gdf.copy()
    gdf.geometry = gdf.geometry.set_precision(10.0**-DECIMALS)
    gdf = gdf[~gdf.geometry.is_empty].sort_values(["iso_a3", "name"], kind="stable")
    assert gdf.geometry.is_valid.all(), "invalid geometry after rounding"
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    return gdf


def to_geojson(gdf: gpd.GeoDataFrame, properties: list[str]) -> bytes:
    """Serialise as compact RFC 7946 GeoJSON with a stable byte layout.

    Written by hand rather than with to_file so that key order, separators and
    float text are fixed by this module, not by the installed GDAL.
    """

    def coords(geom):
        # Re-round so floats print as their short decimal form (e.g. 44.5123).
        return shapely.transform(orient(geom, sign=1.0), lambda c: np.round(c, DECIMALS))

    features = [
        {
            "type": "Feature",
            "properties": {key: _plain(row[key]) for key in properties},
            "geometry": mapping(coords(row.geometry)),
        }
        for _, row in gdf.iterrows()
    ]
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("utf-8")


def _plain(value):
    """numpy scalars -> Python scalars, so json can write them."""
    return value.item() if hasattr(value, "item") else value


def regional_layer(countries_10m: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Countries around the South Caucasus, clipped to BBOX and simplified."""
    log(f"clipping 10m countries to {BBOX}, simplifying at {TOLERANCE} deg")
    clipped = gpd.clip(countries_10m, box(*BBOX), keep_geom_type=True)
    clipped.geometry = clipped.geometry.simplify(TOLERANCE, preserve_topology=True)
    clipped["focus"] = clipped["iso_a3"].isin(FOCUS)
    return finish(clipped)


def nk_layer() -> gpd.GeoDataFrame:
    """The 1994-2020 de facto area, from the constant ring above."""
    ring = [tuple(map(float, pair.split(","))) for pair in NK_RING.split(";")]
    geom = Polygon(ring)
    assert geom.is_valid and len(ring) == 73
    return finish(
        gpd.GeoDataFrame(
            {"iso_a3": [""], "name": [NK_NAME], "source_note": [NK_SOURCE_NOTE]},
            geometry=[geom],
            crs="EPSG:4326",
        )
    )


def build(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = fetch_world_atlas(Path(tmp))
        input_info = {
            name: {"sha256": sha256(p), "bytes": p.stat().st_size} for name, p in inputs.items()
        }
        countries_10m = split_disputed(read_countries(inputs["countries-10m.json"]))
        countries_110m = split_disputed(read_countries(inputs["countries-110m.json"]))

    layers = {
        REGIONAL: (regional_layer(countries_10m), ["iso_a3", "name", "ne_id", "focus"]),
        WORLD: (finish(countries_110m), ["iso_a3", "name", "ne_id"]),
        NK: (nk_layer(), ["name", "source_note"]),
    }
    output_info = {}
    for filename, (gdf, properties) in layers.items():
        data = to_geojson(gdf, properties)
        (out / filename).write_bytes(data)
        output_info[filename] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "features": len(gdf),
        }
        log(f"wrote {filename}: {len(gdf)} features, {len(data):,} bytes")

    provenance = {
        "package": {"name": PACKAGE, "version": VERSION, "tarball_sha256": TARBALL_SHA256},
        "source": "Natural Earth (public domain), via the npm package world-atlas",
        "inputs": input_info,
        "processing": {
            "crs": "EPSG:4326",
            "regional_bbox": list(BBOX),
            "regional_simplify_tolerance_deg": TOLERANCE,
            "coordinate_decimals": DECIMALS,
            "focus": sorted(FOCUS),
            "disputed_splits": {
                name: {
                    "from_iso_a3": split["from"],
                    "bbox": list(split["bbox"]),
                    "rule": "the one polygon part of the state lying wholly inside bbox, "
                    "made a feature of its own (no ISO code)",
                }
                for name, split in DISPUTED_SPLITS.items()
            },
        },
        "outputs": output_info,
    }
    text = json.dumps(provenance, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / PROVENANCE).write_text(text, encoding="utf-8")
    log(f"wrote {PROVENANCE}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GEO, help=f"output directory (default: {GEO})")
    build(parser.parse_args(argv).out)


if __name__ == "__main__":
    main()
