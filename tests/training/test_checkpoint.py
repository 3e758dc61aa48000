"""Checkpoint files: round trip (large arrays too), verification, the previous epoch.
References: the saved state itself, and hand-damaged copies of the file."""
import numpy as np
import pytest

from hwsim.errors import HwsimError
from hwsim.training import checkpoint as ck


def test_round_trip_of_large_arrays_and_previous_epoch(tmp_path):
    # 8 MB arrays: pickle protocol 5 hands them to write() as PickleBuffer objects
    big = np.random.default_rng(0).random(1_000_000)
    path = tmp_path / ck.CHECKPOINT
    ck.save_checkpoint(path, {"epoch": 1, "w": big})
    ck.save_checkpoint(path, {"epoch": 2, "w": big * 2})
    got = ck.load_checkpoint(path)
    assert got["epoch"] == 2 and np.array_equal(got["w"], big * 2)
    prev = ck.load_checkpoint(tmp_path / ck.PREVIOUS)
    assert prev["epoch"] == 1 and np.array_equal(prev["w"], big)
    assert ck._epoch_of(path) == 2 and ck._epoch_of(tmp_path / ck.PREVIOUS) == 1
    assert not list(tmp_path.glob(".*tmp*"))                   # nothing left behind


def test_every_damage_is_detected(tmp_path):
    path = tmp_path / ck.CHECKPOINT
    ck.save_checkpoint(path, {"epoch": 3, "w": np.arange(50_000.0)})
    data = path.read_bytes()
    for bad, what in [(data[:-1], "truncated"), (data[:30], "no header"),
                      (data + b"x", "truncated"),                # longer than recorded
                      (data[:-5] + bytes([data[-5] ^ 0x10]) + data[-4:], "checksum")]:
        path.write_bytes(bad)
        with pytest.raises(HwsimError, match=what):
            ck.load_checkpoint(path)


def test_differences_are_named_and_resumable_keys_ignored():
    old = {"experiment.training.lr": 0.1, "experiment.training.epochs": 2, "code.hwsim": "1"}
    new = {"experiment.training.lr": 0.05, "experiment.training.epochs": 5, "code.hwsim": "1",
           "data.hash": "ab"}
    assert ck.differences(old, new, ck.RESUMABLE) == ["data.hash", "experiment.training.lr"]
    text = ck.describe_differences(old, new, ["experiment.training.lr"])
    assert text == "experiment.training.lr (0.1 -> 0.05)"
