"""The production static storage remembers each URL, and still refuses names missing from the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from btam.lib.staticfiles import StaticFilesStorage


def storage_with_manifest(tmp_path: Path, paths: dict[str, str]) -> StaticFilesStorage:
    manifest = {"paths": paths, "version": "1.1", "hash": "x"}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return StaticFilesStorage(location=str(tmp_path), base_url="/static/")


def test_it_answers_the_hashed_url_and_remembers_it(tmp_path: Path) -> None:
    storage = storage_with_manifest(tmp_path, {"css/site.css": "css/site.abc123.css"})
    assert storage.url("css/site.css") == "/static/css/site.abc123.css"
    # Remembered: a changed manifest in memory is not read again by this process.
    storage.hashed_files["css/site.css"] = "css/site.changed.css"
    assert storage.url("css/site.css") == "/static/css/site.abc123.css"
    assert storage.url("css/site.css", force=True) == "/static/css/site.changed.css"


def test_a_name_missing_from_the_manifest_is_refused_every_time(tmp_path: Path) -> None:
    storage = storage_with_manifest(tmp_path, {"css/site.css": "css/site.abc123.css"})
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")


def test_without_a_manifest_nothing_is_remembered(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body { color: black; }")
    storage = StaticFilesStorage(location=str(tmp_path), base_url="/static/")
    storage.manifest_strict = False
    assert storage.url("css/site.css").startswith("/static/css/site.")
    assert storage._urls == {}
