"""What a third-party file that torch.load(weights_only=True) cannot use actually is."""

from __future__ import annotations

import pickle
import warnings

import pytest
import torch

from biaslens.errors import CheckpointError
from biaslens.models.importers import import_to_checkpoint


def _refusal(path, tmp_path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # torch's UserWarning must not reach the user
        with pytest.raises(CheckpointError) as info:
            import_to_checkpoint(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    return str(info.value)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_pickle_of_containers(tmp_path, protocol):
    path = tmp_path / "plain.pth"
    path.write_bytes(pickle.dumps({"gen": {"w": [1.0, 2.0]}, "epoch": 3}, protocol=protocol))
    msg = _refusal(path, tmp_path)
    assert "a plain Python pickle (pickle.dump), not a file written by torch.save" in msg
    assert "Unsupported operand" not in msg


def test_legacy_torch_file_with_protocol_4(tmp_path):
    path = tmp_path / "legacy.pth"
    torch.save({"w": torch.zeros(2)}, path, pickle_protocol=4,
               _use_new_zipfile_serialization=False)
    assert "written with pickle protocol 4" in _refusal(path, tmp_path)


def test_damaged_pickle(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_bytes(b"\x80\x05junk")
    assert "damaged or truncated pickle" in _refusal(path, tmp_path)


def test_legacy_torch_file_with_protocol_2_still_reads(tmp_path):
    path = tmp_path / "legacy.pth"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=False)
    # readable, but not a known layout: the error is about the content, not the format
    msg = _refusal(path, tmp_path)
    assert "plain Python pickle" not in msg and "protocol" not in msg
