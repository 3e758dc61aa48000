"""Hostile input (issue 14 items 2, 3, 6, 7, 9; issue 13 item 4): every case exits 2 with one
line on stderr that names the file, no traceback, and nothing already written is touched.

Each experiment case is checked twice — ``hwsim validate`` and ``hwsim run`` — and both must
refuse it with the same line: validation is the run's own loading (one ``prepare``).
Cases run in-process through :func:`hwsim.cli.main` (an exception escaping it would be a
traceback and fails the test); the byte-level cases also run as a real subprocess.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
ACC = (ROOT / "configs" / "accelerators" / "cttv2_tile.yaml").read_text()
EXP = """schema_version: 1
name: hostile
accelerator: acc.yaml
workload:
  dataset: {name: digits, limit_train: 20, limit_test: 10}
  network: [{linear: 8, activation: sigmoid}, {linear: 10}]
training:
  algorithm: sgd
  lr: 0.5
  batch: 10
  epochs: 1
run: {seed: 0, out: out, progress: false}
"""
SENTINEL = "an earlier run's report\n"


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, args, name, fragments=()):
    """Run the CLI; assert exit 2, one stderr line naming ``name`` and ``fragments``."""
    code, out, err = cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, (args, out, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert name in lines[0], lines[0]
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A directory with acc.yaml, exp.yaml and an earlier run's output in out/."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HWSIM_DATA", raising=False)
    (tmp_path / "acc.yaml").write_text(ACC)
    (tmp_path / "exp.yaml").write_text(EXP)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").write_text(SENTINEL)
    return tmp_path


def untouched(work):
    assert (work / "out" / "report.json").read_text() == SENTINEL
    assert sorted(p.name for p in (work / "out").iterdir()) == ["report.json"]


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


# (id, file, old, new, key in the error line) -- the line number is checked through the key's
# own line in the mutated file
ACC_CASES = [
    ("adc bits 1", "bits: 9,", "bits: 1,", "tile.periphery.adc.bits"),
    ("dac bits 1", "bits: 7,", "bits: 1,", "tile.periphery.dac.bits"),
    ("nan integration", "integration_time: 40 ns", "integration_time: .nan", "tile.integration_time"),
    ("nan pulse width", "pulse_width: 5 ns", "pulse_width: nan ns", "tile.pulse_width"),
    ("nan bandwidth", "bandwidth: 32 B/cycle", "bandwidth: .nan", "interconnect.bandwidth"),
    ("nan capacity", "capacity: 256 KiB", "capacity: .nan", "buffer.capacity"),
    ("huge integration", "integration_time: 40 ns", "integration_time: 1e300 s",
     "tile.integration_time"),
    ("tiny clock", "digital: 1 GHz", "digital: 1e-300 Hz", "clocks.digital"),
    ("huge clock", "digital: 1 GHz", "digital: 1e300 Hz", "clocks.digital"),
    ("huge bandwidth", "bandwidth: 64 B/cycle", "bandwidth: 1e300 B/cycle", "buffer.bandwidth"),
    ("tile budget", "  count: 16\n", "  count: 65536\n", "tile.count"),
    ("unknown device", "device: reram_softbounds", "device: unobtainium", "device"),
    ("unknown technology", "technology: 32nm_isaac", "technology: 3nm_dreams", "technology"),
    ("missing device file", "device: reram_softbounds", "device: nodevice.yaml", "device"),
    # found only once ops run or are priced: refused by the dry run before anything is written
    ("unpriced converter", "type: sar", "type: cco", "ADC.convert"),
    ("flip without chopper", "    chopper: {inputs: true, outputs: false}\n", "",
     "training.params.in_chop_prob"),
]
LATE = ("ADC.convert", "training.params.in_chop_prob")    # named in another file than acc.yaml


def _line_of(path, needle):
    return next(i for i, l in enumerate(path.read_text().splitlines(), 1) if needle in l)


@pytest.mark.parametrize("case", ACC_CASES, ids=[c[0] for c in ACC_CASES])
def test_accelerator_refused_by_validate_and_run(work, capsys, case):
    _, old, new, key = case
    acc = work / "acc.yaml"
    edit(acc, old, new)
    exp = work / "exp.yaml"
    if key == "ADC.convert":  # the accelerator alone: its blocks' areas are priced
        refused(capsys, ["validate", acc], "32nm_isaac.yaml", ["ADC.area"])
    if key in LATE:       # an experiment that uses the block: c-TTv2 (flips, accumulates)
        edit(exp, "algorithm: sgd", "algorithm: c-ttv2")
        name = "32nm_isaac.yaml" if key == "ADC.convert" else "exp.yaml"
        line = refused(capsys, ["validate", exp], name, [key])
        assert refused(capsys, ["run", exp], name, [key]) == line
        untouched(work)
        return
    line = refused(capsys, ["validate", acc], "acc.yaml", [key])
    if key != "tile.count":                                 # the budget names the file only
        assert f"acc.yaml:{_line_of(acc, new.strip())}:" in line, line
    assert refused(capsys, ["validate", exp], "acc.yaml", [key]) == line
    assert refused(capsys, ["run", exp], "acc.yaml", [key]) == line
    untouched(work)


# (id, old, new, key, with_line): with_line -- the error names the line of ``new``
EXP_CASES = [
    ("nan lr", "lr: 0.5", "lr: .nan", "training.lr", True),
    ("huge lr", "lr: 0.5", "lr: 1e300", "training.lr", True),
    ("epochs 0", "epochs: 1", "epochs: 0", "training.epochs", True),
    ("batch 1e9", "batch: 10", "batch: 1000000000", "training.batch", True),
    ("batch over the split", "batch: 10", "batch: 50", "training.batch", False),
    ("classes vs last layer", "{linear: 10}]", "{linear: 9}]", "workload.network[1]", True),
    ("activation list", "activation: sigmoid}", "activation: []}", "workload.network[0].activation",
     True),
    ("activation mapping", "activation: sigmoid}", "activation: {x: 1}}",
     "workload.network[0].activation", True),
    ("huge weight_scale", "epochs: 1\n", "epochs: 1\n  params: {weight_scale: 1e300}\n",
     "training.params.weight_scale", True),
    ("unknown data set name", "dataset: {name: digits,", "dataset: {name: cifar,",
     "workload.dataset.name", True),
    ("unknown data set string", "dataset: {name: digits, limit_train: 20, limit_test: 10}",
     "dataset: cifar", "workload.dataset", True),
    ("bad data set option", "limit_test: 10}", "limit_test: .nan}", "workload.dataset.limit_test",
     True),
    ("missing accelerator", "accelerator: acc.yaml", "accelerator: nowhere.yaml", "nowhere.yaml",
     True),
]


@pytest.mark.parametrize("case", EXP_CASES, ids=[c[0] for c in EXP_CASES])
def test_experiment_refused_by_validate_and_run(work, capsys, case):
    _, old, new, key, with_line = case
    exp = work / "exp.yaml"
    edit(exp, old, new)
    where = f"exp.yaml:{_line_of(exp, new.strip().splitlines()[-1])}:" if with_line else "exp.yaml"
    line = refused(capsys, ["validate", exp], where, [key])
    assert refused(capsys, ["run", exp], where, [key]) == line
    untouched(work)


@pytest.mark.parametrize("name,raw,line", [
    ("nul", b"schema_version: 1\nname: a\x00b\n", 2),
    ("latin-1 comment", b"schema_version: 1\n# caf\xe9\nname: x\n", 2),
    ("utf-16", "schema_version: 1\nname: x\n".encode("utf-16"), 1),
    ("control character", b"schema_version: 1\nname: \x1b[0m\n", 2),
])
def test_text_must_be_utf8(work, capsys, name, raw, line):
    for f in ("acc.yaml", "exp.yaml"):
        (work / f).write_bytes(raw)
        refused(capsys, ["validate", work / f], f"{f}:{line}:")
    refused(capsys, ["run", work / "exp.yaml"], f"exp.yaml:{line}:")
    untouched(work)


def test_binary_file_where_yaml_is_expected_subprocess(work):
    """``hwsim trace generate model.onnx`` (a corrupt model) and a binary file where YAML is
    expected: one line naming the file, exit 2, as a real process; nothing written."""
    junk = b"\x08\x07\x12\x04onnx:\x9a\x01\x00\xff" * 8
    (work / "model.onnx").write_bytes(junk)
    (work / "net.yaml").write_bytes(junk)
    gen = ["trace", "generate", "--batch", "1", "--steps", "1", "--algorithm", "sgd",
           "-o", "t.jsonl.gz"]
    for args, where in ((gen[:2] + ["model.onnx"] + gen[2:], "model.onnx"),
                        (gen[:2] + ["net.yaml"] + gen[2:], "net.yaml:1:"),
                        (["validate", "model.onnx"], "model.onnx:1:")):
        r = subprocess.run([sys.executable, "-m", "hwsim.cli", *args], capture_output=True,
                           text=True, cwd=work, timeout=120)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.strip().splitlines() == [r.stderr.strip()] and where in r.stderr, r.stderr
    assert not (work / "t.jsonl.gz").exists()


def test_schema_and_describe_names(work, capsys):
    refused(capsys, ["schema", "foo"], "foo", ["known:", "sweep", "device"])
    refused(capsys, ["describe", "foo"], "foo", ["device"])
    for which in ("sweep", "device", "network", "experiment", "dataset.mnist", "network.layer"):
        code, out, err = cli(capsys, "schema", which)
        assert code == 0 and '"additionalProperties": false' in out, (which, err)
    code, out, _ = cli(capsys, "describe", "device")
    assert code == 0 and "dw_min" in out and "response_power" in out     # common keys, models
    code, out, _ = cli(capsys, "describe", "device.response_power")
    assert code == 0 and "response_gamma" in out and "response_tau" in out
    code, out, _ = cli(capsys, "describe", "dataset.mnist")
    assert code == 0 and "limit_train" in out and "flag > env > file" in out
    (work / "s.json").write_text(SENTINEL)
    refused(capsys, ["schema", "nope", "-o", work / "s.json"], "nope")
    assert (work / "s.json").read_text() == SENTINEL


MNIST = ROOT.parent / "shared" / "data" / "mnist"


@pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").is_file(), reason="no MNIST here")
def test_data_flag_and_env_override_the_file_path(work, capsys, monkeypatch):
    """Precedence --data > HWSIM_DATA > workload.dataset.path; a missing path in the file is
    no error when a flag or the environment gives the directory."""
    exp = work / "exp.yaml"
    edit(exp, "dataset: {name: digits,", "dataset: {name: mnist, path: /no/such/dir,")
    edit(exp, "{linear: 8,", "{linear: 4,")
    line = refused(capsys, ["validate", exp], "/no/such/dir", ["directory not found"])
    assert refused(capsys, ["run", exp], "/no/such/dir") == line
    code, _, err = cli(capsys, "validate", exp, "--data", MNIST)
    assert code == 0, err
    refused(capsys, ["validate", exp, "--data", work / "flagdir"], "flagdir")   # flag beats env
    monkeypatch.setenv("HWSIM_DATA", str(MNIST))
    code, _, err = cli(capsys, "validate", exp)
    assert code == 0, err
    refused(capsys, ["validate", exp, "--data", work / "flagdir"], "flagdir")
    untouched(work)


def test_validate_reads_sweep_and_network_files(work, capsys):
    for f, what in (("configs/sweeps/digits_algorithms.yaml", "valid sweep"),
                    ("configs/networks/lenet5.yaml", "valid network"),
                    ("configs/devices/pcm.yaml", "valid device"),
                    ("configs/technology/hermes_cco.yaml", "valid technology table")):
        code, out, err = cli(capsys, "validate", ROOT / f)
        assert code == 0 and what in out, err
    sweep = work / "sweep.yaml"
    sweep.write_text("name: s\nbase: {experiment: exp.yaml}\naxes:\n  tile.rowz: [64, 128]\n")
    refused(capsys, ["validate", sweep], "sweep.yaml:4:", ["tile.rowz"])
    net = work / "net.yaml"
    net.write_text("input_shape: [64]\nnetwork:\n  - {linear: 8, activation: []}\n")
    refused(capsys, ["validate", net], "net.yaml:3:", ["network[0].activation"])
    refused(capsys, ["validate", net, "--kind", "accelerator"], "net.yaml", ["unknown key"])
    dev = work / "dev.yaml"
    dev.write_text("model: soft_bounds\ndw_min: .nan\n")
    refused(capsys, ["validate", dev], "dev.yaml:2:", ["dw_min", "finite"])
