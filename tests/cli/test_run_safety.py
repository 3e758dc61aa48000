"""Runs own their output (issue 14 item 1): resume checks the configuration, a new run
does not overwrite another run's results, checkpoints are atomic and verified.

Every refusal is one line on stderr, exit status 2, no traceback, and nothing already
written changes (compared byte for byte).  The reference for "resume works" is the
uninterrupted run of the same experiment (runs are reproducible bit for bit)."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.cli import main

EXPERIMENT = """\
schema_version: 1
name: small
accelerator: accelerators/cttv2_tile.yaml
workload:
  dataset: {name: digits, limit_train: 40, limit_test: 20}
  network: [{linear: 12, activation: sigmoid}, {linear: 10}]
training: {algorithm: c-ttv2, lr: 1.0, batch: 10, epochs: 2,
           params: {in_chop_prob: 0.1, auto_granularity: 20, max_pulses: 10}}
run: {seed: 0, out: out, progress: false}
"""


@pytest.fixture
def exp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "exp.yaml"
    p.write_text(EXPERIMENT)
    return p


def run(capsys, *args):
    rc = main(["run", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def refused(capsys, *args, expect=()):
    rc, _, err = run(capsys, *args)
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hwsim: error: "), err
    assert "Traceback" not in err
    for frag in expect:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


def snapshot(d: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


def history(d: Path) -> list:
    return json.loads((d / "report.json").read_text())["extra"]["training"]["history"]


def test_resume_refuses_another_configuration(exp, capsys):
    assert run(capsys, exp)[0] == 0
    before = snapshot(exp.parent / "out")
    line = refused(capsys, exp, "--resume", "--epochs", 3, "--set", "training.lr=0.05",
                   expect=["checkpoint.pkl", "cannot resume", "training.lr (1.0 -> 0.05)"])
    assert "network" not in line                  # only the key that differs is named
    refused(capsys, exp, "--resume", "--set", "accelerator.tile.rows=128",
            expect=["accelerator.tile.rows (256 -> 128)"])
    assert snapshot(exp.parent / "out") == before
    # more epochs is what resuming is for
    assert run(capsys, exp, "--resume", "--epochs", 3)[0] == 0
    assert [h["epoch"] for h in history(exp.parent / "out")] == [1, 2, 3]


def test_new_run_refuses_to_overwrite_another_run(exp, capsys):
    assert run(capsys, exp)[0] == 0
    out = exp.parent / "out"
    before = snapshot(out)
    refused(capsys, exp, "--set", "training.lr=0.05", expect=["out: holds the results of "
                                                            "another run", "training.lr", "--force"])
    refused(capsys, exp, "--epochs", 3, expect=["training.epochs (2 -> 3)", "--resume"])
    assert snapshot(out) == before
    # the same run again reproduces the same results: allowed, and nothing changes
    assert run(capsys, exp)[0] == 0
    assert history(out) == json.loads(before["report.json"])["extra"]["training"]["history"]
    # --force overwrites, and a later resume continues the new run
    assert run(capsys, exp, "--force", "--set", "training.lr=0.05")[0] == 0
    ident = json.loads((out / "run.json").read_text())["identity"]
    assert ident["experiment.training.lr"] == 0.05
    assert run(capsys, exp, "--resume", "--epochs", 3, "--set", "training.lr=0.05")[0] == 0


def test_results_without_identity_are_not_overwritten(exp, capsys):
    out = exp.parent / "out"
    out.mkdir()
    (out / "report.json").write_text("{}\n")
    refused(capsys, exp, expect=["report.json", "--force"])
    assert (out / "report.json").read_text() == "{}\n"


def test_out_is_an_existing_file(exp, capsys):
    (exp.parent / "afile").write_text("keep me\n")
    refused(capsys, exp, "--out", "afile", expect=["afile: run.out is an existing file"])
    refused(capsys, exp, "--out", "afile/sub", expect=["afile/sub: cannot create the output "
                                                        "directory: Not a directory"])
    assert (exp.parent / "afile").read_text() == "keep me\n"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_corrupt_checkpoint_offers_the_previous_epoch(exp, capsys, damage):
    assert run(capsys, exp)[0] == 0
    ck = exp.parent / "out" / "checkpoint.pkl"
    data = ck.read_bytes()
    if damage == "truncate":
        ck.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        ck.write_bytes(b"not a checkpoint at all\n")
    else:                                        # one bit flipped in the payload
        i = len(data) - 100
        ck.write_bytes(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:])
    line = refused(capsys, exp, "--resume", "--epochs", 3,
                   expect=["checkpoint.pkl", "checkpoint.prev.pkl (epoch 1) is intact"])
    assert {"truncate": "truncated", "garbage": "not a hwsim checkpoint",
            "flip": "checksum"}[damage] in line
    # taking the offer: resume from epoch 1 gives the uninterrupted run's epochs 2, 3
    os.replace(ck.with_name("checkpoint.prev.pkl"), ck)
    assert run(capsys, exp, "--resume", "--epochs", 3)[0] == 0
    assert run(capsys, exp, "--epochs", 3, "--out", "whole")[0] == 0
    assert history(exp.parent / "out") == history(exp.parent / "whole")


KILL_AT_SECOND_SAVE = """\
import os, signal, sys
import hwsim.training.checkpoint as ck
saves = {"n": 0}
real = ck.save_checkpoint
class Dying(ck._HashingWriter):
    def write(self, data):
        if self.n > 1000:                    # part of the payload is on disk: die now
            os.kill(os.getpid(), signal.SIGKILL)
        return super().write(data)
def save(path, state):
    saves["n"] += 1
    if saves["n"] == 2:
        ck._HashingWriter = Dying
    return real(path, state)
ck.save_checkpoint = save
import hwsim.training.runner as runner
runner.save_checkpoint = save
from hwsim.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_during_a_checkpoint_write_then_resume(exp, capsys):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.run([sys.executable, "-c", KILL_AT_SECOND_SAVE, "run", str(exp),
                        "--epochs", "3"], cwd=exp.parent, env=env, capture_output=True,
                       timeout=300)
    assert p.returncode == -signal.SIGKILL, p.stderr.decode()
    out = exp.parent / "out"
    assert list(out.glob(".checkpoint.pkl.tmp-*"))     # the torn temporary file
    assert not (out / "report.json").exists()
    assert run(capsys, exp, "--resume", "--epochs", 3)[0] == 0
    assert not list(out.glob(".checkpoint.pkl.tmp-*"))
    assert run(capsys, exp, "--epochs", 3, "--out", "whole")[0] == 0
    assert history(out) == history(exp.parent / "whole")


def test_crash_between_the_renames_offers_the_previous_checkpoint(exp, capsys):
    assert run(capsys, exp)[0] == 0
    out = exp.parent / "out"
    (out / "checkpoint.pkl").unlink()                # as if killed between os.replace calls
    refused(capsys, exp, "--resume", "--epochs", 3,
            expect=["no checkpoint to resume from", "checkpoint.prev.pkl (epoch 1)"])
