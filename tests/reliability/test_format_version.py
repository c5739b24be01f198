"""Files from a newer chainrule are refused clearly; files from this one, older ones (no
version) and other tools' safetensors still load."""
import json

import pytest

import chainrule as cr
from chainrule.io import CheckpointError
from chainrule.io.safetensors_format import deserialize, serialize
from chainrule.io.serialization import FORMAT_VERSION


def _rewrite_metadata(path, **changes):
    arrays, meta, _, _ = deserialize(path.read_bytes())
    meta.update(changes)
    meta.pop("sha256", None)            # as a newer writer might lay its checksum out differently
    path.write_bytes(serialize(arrays, meta))


def test_newer_format_version_is_refused_with_both_versions(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"opt": {"lr": 0.1}, "w": cr.ones(2)}, path)
    _rewrite_metadata(path, format_version=str(int(FORMAT_VERSION) + 1))
    with pytest.raises(CheckpointError, match=rf"version {int(FORMAT_VERSION) + 1}.*"
                                              rf"version {FORMAT_VERSION}.*upgrade"):
        cr.load(path)


def test_damaged_version_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"w": cr.ones(2)}, path)
    _rewrite_metadata(path, format_version="two")
    with pytest.raises(CheckpointError, match="format_version"):
        cr.load(path)


def test_current_unversioned_and_foreign_files_load(tmp_path):
    path = tmp_path / "m.safetensors"
    cr.save({"w": cr.ones(2)}, path)
    assert cr.load(path)["w"].tolist() == [1.0, 1.0]
    _rewrite_metadata(path, format_version=FORMAT_VERSION)
    assert cr.load(path)["w"].tolist() == [1.0, 1.0]
    arrays, meta, _, _ = deserialize(path.read_bytes())
    path.write_bytes(serialize(arrays, {"made_by": json.dumps("another tool")}))
    assert cr.load(path)["w"].tolist() == [1.0, 1.0]
