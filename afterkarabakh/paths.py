"""Where things live, so no notebook types a path."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GEO = DATA / "geo"
DATAPACKAGE = DATA / "datapackage.json"
CHAPTERS = ROOT / "chapters"
PACKAGE = Path(__file__).resolve().parent
