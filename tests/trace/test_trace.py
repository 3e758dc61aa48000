"""Traces: record -> replay round trip, generated vs recorded, cache exactness, bad files."""
import gzip
import json
import re
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.config.experiment import load_experiment
from hwsim.errors import TraceError
from hwsim.report.runs import run_report
from hwsim.trace.format import Step, TraceReader, TraceWriter
from hwsim.training.trace_generate import generate_trace
from hwsim.api import replay
from hwsim.training.runner import run_experiment

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
NETS = ROOT / "configs" / "networks"

EXPERIMENT = """\
schema_version: 1
name: trace-rt
accelerator: {acc}
workload:
  dataset: {{name: digits, limit_train: 200}}
  network: [{{linear: 32, activation: sigmoid}}, {{linear: 10}}]
training:
  algorithm: {alg}
  lr: 0.5
  batch: 10
  epochs: 1
  params: {params}
run: {{seed: 0, out: {out}, progress: false, checkpoint: false}}
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A recorded digits-MLP epoch (200 samples) for sgd and c-ttv2: (report, trace)."""
    out = {}
    base = tmp_path_factory.mktemp("rec")
    for alg, params in (("sgd", "{weight_scale: 4}"), ("float", "{}"),
                        ("c-ttv2", "{weight_scale: 4, in_chop_prob: 0.1, auto_granularity: 20}")):
        d = base / alg
        d.mkdir()
        exp = d / "exp.yaml"
        exp.write_text(EXPERIMENT.format(acc=ACC, alg=alg, params=params, out=d / "run"))
        trace = d / "t.jsonl.gz"
        report = run_report(run_experiment(load_experiment(str(exp)), trace_path=str(trace)))
        out[alg] = (report, trace)
    return out


def _ops(path):
    return [x for x in TraceReader(path) if not isinstance(x, Step)]


def test_recorded_header_names_no_machine_path(recorded):
    """A trace is shipped and shared: its source names the experiment file, not where it
    lay (the fixture's experiments live under a pytest tmp directory)."""
    _, trace = recorded["sgd"]
    src = TraceReader(trace).header["source"]
    assert src.startswith("recorded: exp.yaml") and "/" not in src


def test_shipped_traces_name_no_machine_path():
    for path in sorted((ROOT / "traces").glob("*.jsonl.gz")):
        src = TraceReader(path).header["source"]
        assert not any(p in src for p in ("/tmp/", "/home/", "/work/", "/root/")), (path, src)


@pytest.mark.parametrize("alg", ["sgd", "c-ttv2"])
def test_record_replay_round_trip_is_exact(recorded, alg):
    run, trace = recorded[alg]
    rep = replay(str(ACC), trace, progress=False)
    assert rep["latency"]["total_ticks"] == run["latency"]["total_ticks"] > 0
    assert rep["latency"]["phases"] == run["latency"]["phases"]
    assert rep["latency"]["components"] == run["latency"]["components"]
    assert rep["energy"]["total_J"] == run["energy"]["total_J"] > 0
    assert rep["energy"] == run["energy"]
    assert rep["area"] == run["area"]
    assert rep["per_sample"]["samples"] == run["per_sample"]["samples"] == 200


def test_cache_is_exact_on_repeated_ops(tmp_path, recorded):
    """Cached and uncached replays agree on everything, with many cache hits."""
    t = generate_trace(NETS / "lenet5.yaml", 8, 6, "c-ttv2", out=tmp_path / "g.jsonl.gz")
    a = replay(str(ACC), t, progress=False, cache=True, overrides={"tile.count": 32})
    b = replay(str(ACC), t, progress=False, cache=False, overrides={"tile.count": 32})
    assert a["extra"]["trace"]["op_cache"]["hits"] > 100
    assert b["extra"]["trace"]["op_cache"]["hits"] == 0
    for k in ("latency", "energy", "area", "per_sample"):
        assert a[k] == b[k], k
    _, rec = recorded["c-ttv2"]
    a = replay(str(ACC), rec, progress=False, cache=True)
    b = replay(str(ACC), rec, progress=False, cache=False)
    assert a["latency"] == b["latency"] and a["energy"] == b["energy"]


def _structure(ops, drop=()):
    return [(o.op, o.layer, o.role, o.phase, tuple(sorted(o.meta_dict())))
            for o in ops if o.op not in drop]


@pytest.mark.parametrize("alg", ["sgd", "float"])
def test_generated_matches_recorded_structure(recorded, tmp_path, alg):
    """Same ops in the same order: per layer the MVM then its activation (digital), the
    loss gradient, the backward MVMs, the updates."""
    run, trace = recorded[alg]
    gen = generate_trace(NETS / "digits_mlp.yaml", 10, 20, alg, out=tmp_path / "g.jsonl.gz")
    r, g = _ops(trace), _ops(gen)
    assert _structure(r) == _structure(g)
    # item counts of everything but the data-dependent pulse-slot count agree
    assert [o.n for o in r if o.op != "update"] == [o.n for o in g if o.op != "update"]
    # both carry the step's data movement (hwsim/training/dataflow.py): fc1 reads its
    # input before its MVM and writes its output after its activation
    assert [(o.op, o.layer) for o in r[:1]] == [("move", "fc1")]
    assert [o.meta_dict()["access"] for o in r if o.op == "move"] == \
        [o.meta_dict()["access"] for o in g if o.op == "move"]
    r = [o for o in r if o.op != "move"]
    first = [(o.op, o.layer, o.phase) for o in r[:5]]
    expect_mvm = ("digital", "fc1", "forward") if alg == "float" else ("forward", "fc1", "forward")
    assert first[0] == expect_mvm and first[1] == ("digital", "fc1", "forward")
    assert r[1].meta_dict()["kind"] == "activation"
    if alg == "float":
        return
    assert TraceReader(gen).header["network"] == TraceReader(trace).header["network"]
    # only statistics differ
    assert any(a.meta != b.meta for a, b in zip(r, g))


def test_generated_cttv2_matches_recorded_op_sequence(recorded, tmp_path):
    """c-TTv2: flips and C writes depend on random draws/data; the rest is identical."""
    _, trace = recorded["c-ttv2"]
    gen = generate_trace(NETS / "digits_mlp.yaml", 10, 20, "c-ttv2", out=tmp_path / "g.jsonl.gz",
                         h_write=0.0)
    drop = ("flip",)
    r = [o for o in _ops(trace) if not (o.op == "update" and o.role == "C")]
    g = _ops(gen)
    assert _structure(r, drop) == _structure(g, drop)
    rc = [(o.op, o.n, o.meta_dict().get("col")) for o in r if o.op in ("read_column", "accumulate")]
    gc = [(o.op, o.n, o.meta_dict().get("col")) for o in g if o.op in ("read_column", "accumulate")]
    assert rc == gc
    assert sum(o.n for o in g if o.op == "flip") > 0


def test_expected_statistics_formula(tmp_path):
    layers = [{"name": "fc", "kind": "linear", "out_features": 8, "in_features": 4,
               "vectors_per_sample": 1}]
    t = generate_trace(layers, 10, 1, "sgd", out=tmp_path / "s.jsonl.gz", bl=5,
                       input_sparsity=0.5, error_sparsity=0.0, g_mean=0.6, pulse_type="stochastic")
    ops = {o.op: o for o in _ops(t)}
    up = ops["update"].meta_dict()
    n = 10 * 5
    assert ops["update"].n == n
    assert up["col_slots"] == round(n * 4 * 0.25) and up["row_slots"] == round(n * 8 * 0.5)
    assert up["pulses"] == round(n * 32 * 0.25 * 0.5) and up["rng_draws"] == 0
    assert ops["forward"].meta_dict()["sum_gv2"] == pytest.approx(10 * 32 * 0.6 * 0.5 / 3)


def test_writer_is_atomic_and_reader_streams(tmp_path):
    p = tmp_path / "w.jsonl.gz"
    hdr = {"network": [{"name": "fc", "kind": "linear", "out_features": 2, "in_features": 3,
                        "vectors_per_sample": 1}], "batch": 1, "algorithm": "sgd",
           "roles": ["W"], "source": "test"}
    from hwsim.sim.program import Op
    w = TraceWriter(p, hdr)
    w.record(Op("forward", 1, "fc", "W", "forward", (("sum_gv2", 0.1 + 0.2),)))
    assert not p.exists()
    w.end_step(1)
    w.close()
    items = list(TraceReader(p))
    assert items[0].meta_dict()["sum_gv2"] == 0.1 + 0.2 and items[1] == Step(0, 1)
    with pytest.raises(RuntimeError):
        with TraceWriter(tmp_path / "x.jsonl.gz", hdr):
            raise RuntimeError("boom")
    assert not list(tmp_path.glob("*x.jsonl.gz*"))


def _lines(path):
    with gzip.open(path, "rt") as fh:
        return fh.read().splitlines()


def _write_lines(path, lines):
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(lines) + "\n")


def _bad_traces(src, d):
    lines = _lines(src)
    raw = Path(src).read_bytes()
    bad = {}
    bad["truncated_bytes"] = d / "trunc.jsonl.gz"
    bad["truncated_bytes"].write_bytes(raw[: len(raw) // 2])
    bad["truncated_lines"] = d / "cut.jsonl.gz"
    _write_lines(bad["truncated_lines"], lines[: len(lines) // 2])
    bad["corrupt_bytes"] = d / "corrupt.jsonl.gz"
    b = bytearray(raw)
    for i in range(40, len(b) - 20, 7):
        b[i] ^= 0x5A
    bad["corrupt_bytes"].write_bytes(bytes(b))
    bad["altered_line"] = d / "altered.jsonl.gz"
    _write_lines(bad["altered_line"], [lines[0], lines[1].replace('"forward"', '"backward"', 1)]
                 + lines[2:])
    hdr = json.loads(lines[0])
    hdr["version"] = 99
    bad["wrong_version"] = d / "v99.jsonl.gz"
    _write_lines(bad["wrong_version"], [json.dumps(hdr)] + lines[1:])
    bad["not_gzip"] = d / "plain.jsonl.gz"
    bad["not_gzip"].write_text("hello\n")
    # a NaN statistic (JSON admits it; validate-time checks never see a trace's numbers)
    i = next(k for k, x in enumerate(lines) if '"sum_gv2":' in x)
    nan = re.sub(r'"sum_gv2": ?[-0-9.eE+]+', '"sum_gv2": NaN', lines[i], count=1)
    assert nan != lines[i]
    bad["nan_statistic"] = d / "nan.jsonl.gz"
    _write_lines(bad["nan_statistic"], lines[:i] + [nan] + lines[i + 1:])
    return bad


def test_bad_traces_exit_2_and_write_nothing(recorded, tmp_path, capsys):
    _, trace = recorded["sgd"]
    for name, path in _bad_traces(trace, tmp_path).items():
        out = tmp_path / f"out_{name}"
        with pytest.raises(TraceError):
            replay(str(ACC), path, progress=False)
        rc = main(["replay", str(ACC), str(path), "-o", str(out), "--no-progress"])
        err = capsys.readouterr().err
        assert rc == 2, name
        assert str(path) in err and "Traceback" not in err, (name, err)
        assert not out.exists(), name


def test_mismatched_trace_is_a_clear_error(tmp_path, capsys):
    t = generate_trace(NETS / "vgg8_cifar10.yaml", 2, 1, "sgd", out=tmp_path / "v.jsonl.gz")
    out = tmp_path / "out"
    rc = main(["replay", str(ACC), str(t), "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot be mapped" in err and "tiles" in err
    assert not out.exists()
    # a trace with chopper flips on an accelerator without choppers
    t2 = generate_trace(NETS / "digits_mlp.yaml", 10, 2, "c-ttv2", out=tmp_path / "c.jsonl.gz")
    rc = main(["replay", str(ACC), str(t2), "-o", str(out), "--no-progress",
               "--set", "tile.periphery.chopper=null"])
    err = capsys.readouterr().err
    assert rc == 2 and "flip" in err and not out.exists(), err


def test_cli_generate_and_replay(tmp_path, capsys):
    t = tmp_path / "m.jsonl.gz"
    rc = main(["trace", "generate", str(NETS / "mlp_784_256_128_10.yaml"), "--batch", "16",
               "--steps", "3", "--algorithm", "c-ttv2", "-o", str(t)])
    assert rc == 0 and t.is_file()
    rc = main(["replay", str(ACC), str(t), "-o", str(tmp_path / "r"), "--no-progress",
               "--set", "tile.count=32"])
    assert rc == 0
    rep = json.loads((tmp_path / "r" / "report.json").read_text())
    assert rep["per_sample"]["samples"] == 48
    assert set(rep["latency"]["phases"]) >= {"forward", "backward", "update", "transfer"}
    rc = main(["trace", "generate", str(NETS / "lenet5.yaml"), "--batch", "4", "--steps", "1",
               "--algorithm", "nope", "-o", str(tmp_path / "n.jsonl.gz")])
    assert rc == 2 and not (tmp_path / "n.jsonl.gz").exists()
