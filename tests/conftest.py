"""Shared fixtures: a scratch copy of the data package that a test may break on purpose."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from afterkarabakh import paths


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A full copy of data/ in a temporary folder; returns the copied datapackage.json."""
    target = tmp_path / "data"
    shutil.copytree(paths.DATA, target)
    return target / "datapackage.json"
