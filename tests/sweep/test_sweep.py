"""Sweeps: grid/zip/constraint expansion, Pareto fronts, resume after kill -9, Dask, bad files.

Every evaluation is a replay of a tiny generated trace (digits MLP, 2 steps of 10
samples, analog SGD) — a few tens of ms per point — or, once, two points of a
100-sample digits experiment.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.cli import main
from hwsim.errors import ConfigError
from hwsim.sweep.expr import Expression, ExpressionError
from hwsim.sweep.outputs import assemble
from hwsim.sweep.pareto import dominates, pareto_front, pareto_mask
from hwsim.sweep.runner import ResultLog, run_sweep
from hwsim.sweep.spec import load_sweep, point_id, point_seed

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "analog_tile.yaml"


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    from hwsim.training.trace_generate import generate_trace
    path = tmp_path_factory.mktemp("trace") / "mlp.jsonl.gz"
    generate_trace(str(ROOT / "configs" / "networks" / "digits_mlp.yaml"), 10, 2, "sgd", out=path)
    return path


def sweep_file(tmp_path, trace, body: str, name="sw.yaml") -> Path:
    p = tmp_path / name
    p.write_text(f"name: t\nbase:\n  accelerator: {ACC}\n  trace: {trace}\n{body}")
    return p


def grid(spec):
    return [tuple(p.params.values()) for p in spec.points]


# ---------------------------------------------------------------- expansion ----------------
def test_grid_ranges_and_order(tmp_path, trace):
    spec = load_sweep(sweep_file(tmp_path, trace, """
axes:
  tile.periphery.adc.bits: {start: 4, stop: 8, step: 2}
  tile.rows: {start: 64, stop: 256, step: 2, scale: log}
  tile.pulse_width: ["1 ns", "2 ns"]
"""))
    assert spec.keys == ("tile.periphery.adc.bits", "tile.rows", "tile.pulse_width")
    want = [(b, r, w) for b in (4, 6, 8) for r in (64, 128, 256) for w in ("1 ns", "2 ns")]
    assert grid(spec) == want                     # first axis slowest, file order
    assert len({p.id for p in spec.points}) == len(want)


def test_range_forms(tmp_path, trace):
    spec = load_sweep(sweep_file(tmp_path, trace, """
axes:
  tile.cols: {start: 64, stop: 1024, num: 5, scale: log}
  tile.pulse_width: {start: 1 ns, stop: 3 ns, num: 3}
  tile.integration_time: {start: 10 ns, stop: 40 ns, step: 15 ns}
"""))
    vals = [sorted({p.params[k] for p in spec.points}, key=float) for k in spec.keys]
    assert vals[0] == [64, 128, 256, 512, 1024] and all(type(v) is int for v in vals[0])
    assert vals[1] == pytest.approx([1e-9, 2e-9, 3e-9])
    assert vals[2] == pytest.approx([10e-9, 25e-9, 40e-9])
    assert len(spec.points) == 5 * 3 * 3


def test_zipped_axes_and_param_constraints(tmp_path, trace):
    spec = load_sweep(sweep_file(tmp_path, trace, """
axes:
  tile.periphery.adc.bits: [4, 6, 8]
zip:
  - {tile.rows: [32, 64, 128], tile.cols: [32, 64, 128], tile.count: [8, 2, 1]}
constraints:
  - "tile.rows * tile.cols * tile.periphery.adc.bits <= 64 * 64 * 6"
  - "not (tile.rows == 32 and tile.periphery.adc.bits in [4, 8])"
"""))
    want = [(b, r, r, c) for b in (4, 6, 8) for r, c in ((32, 8), (64, 2), (128, 1))
            if r * r * b <= 64 * 64 * 6 and not (r == 32 and b in (4, 8))]
    assert grid(spec) == want
    assert want == [(4, 64, 64, 2), (6, 32, 32, 8), (6, 64, 64, 2)]


def test_point_ids_and_seeds_are_stable(tmp_path, trace):
    assert point_id({"a": 1, "b": "x"}) == point_id({"b": "x", "a": 1})
    assert point_id({"a": 1}) != point_id({"a": 2})
    s1 = load_sweep(sweep_file(tmp_path, trace, "seed: 3\naxes: {tile.rows: [32, 64]}\n"))
    s2 = load_sweep(sweep_file(tmp_path, trace, "seed: 3\naxes: {tile.rows: [64, 32, 128]}\n",
                               name="b.yaml"))
    by_id = {p.id: p.seed for p in s2.points}
    assert all(by_id[p.id] == p.seed for p in s1.points)     # reorder/extend keeps points
    assert len({p.seed for p in s2.points}) == 3
    assert point_seed(4, s1.points[0].id) != s1.points[0].seed


def test_expression_evaluator():
    e = Expression("tile.rows * tile.cols <= 65536 and 4 <= bits < 9")
    assert e.names == {"tile.rows", "tile.cols", "bits"}
    assert e.evaluate({"tile.rows": 256, "tile.cols": 256, "bits": 8})
    assert not e.evaluate({"tile.rows": 512, "tile.cols": 256, "bits": 8})
    assert not e.evaluate({"tile.rows": 64, "tile.cols": 64, "bits": 9})
    assert Expression("area <= '50 mm^2'").evaluate({"area": 4.9e-5})
    assert not Expression("area <= '50 mm^2'").evaluate({"area": 5.1e-5})
    assert Expression("device != 'pcm'").evaluate({"device": "ecram"})
    assert Expression("log2(max(rows, 2)) == 6").evaluate({"rows": 64})
    assert not Expression("accuracy >= 0.5").evaluate({"accuracy": None})  # missing metric
    for bad in ("__import__('os').system('true')", "rows.__class__()", "x[0]", "lambda: 1",
                "open('f')", "[i for i in x]", "rows >", ""):
        with pytest.raises(ExpressionError):
            Expression(bad)
    with pytest.raises(ExpressionError):
        Expression("rows / 0 > 1").evaluate({"rows": 1})


# ---------------------------------------------------------------- Pareto -------------------
def test_pareto_constructed():
    v = [[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 1], [1, 6], [3, 3]]
    assert pareto_front(v, ["min", "min"]) == [0, 1, 3, 4]     # ties: 1 and 4 both on it
    assert pareto_front(v, ["min", "min"], "pairwise") == [0, 1, 3, 4]
    # minimise f1, maximise f2: (1, 6) has the smallest f1 and the largest f2
    assert pareto_front(v, ["min", "max"]) == [6]
    assert pareto_front(v, ["max", "max"]) == [2, 5, 6]
    three = [[1, 1, 9], [1, 1, 9], [2, 2, 2], [3, 3, 3], [0, 5, 5]]
    assert pareto_front(three, ["min"] * 3) == [0, 1, 2, 4]
    assert dominates([1, 1], [1, 2], ["min", "min"]) and not dominates([1, 1], [1, 1], ["min"] * 2)
    assert pareto_front([[3], [1], [1]], ["min"]) == [1, 2]
    with pytest.raises(ValueError):
        pareto_mask([[1, np.nan]], ["min", "min"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=40),
       st.sampled_from(["min", "max"]), st.sampled_from(["min", "max"]))
def test_pareto_sweep_matches_pairwise(points, s1, s2):
    senses = [s1, s2]
    fast = pareto_mask(points, senses, "sweep")
    assert (fast == pareto_mask(points, senses, "pairwise")).all()
    front = [p for p, on in zip(points, fast) if on]
    assert front
    for p, on in zip(points, fast):
        dominated = any(dominates(q, p, senses) for q in points)
        assert on == (not dominated)
        if not on:
            assert any(dominates(q, p, senses) for q in front)


# ---------------------------------------------------------------- running ------------------
def _plain(records):
    return {r["id"]: {k: v for k, v in r.items() if k not in ("wall_s",)} for r in records}


def _lines(out: Path):
    return [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]


RESUME_BODY = """
axes:
  tile.periphery.adc.bits: [4, 5, 6, 7, 8, 9]
  tile.periphery.adc.columns_per_adc: [2, 8]
zip:
  - {tile.rows: [64, 16], tile.cols: [64, 16], tile.count: [2, 1]}
constraints: ["area_mm2 <= 1e6"]
objectives: {energy_per_sample: min, latency_per_sample: min}
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory, trace):
    """An uninterrupted 2-worker run of the resume sweep (16-row points fail to map)."""
    d = tmp_path_factory.mktemp("ref")
    spec = load_sweep(sweep_file(d, trace, RESUME_BODY))
    rows = run_sweep(spec, d / "out", workers=2, progress=False, plots=False)
    return spec, rows, d / "out"


def test_outputs_failures_and_pareto(reference):
    spec, rows, out = reference
    assert len(rows) == len(spec.points) == 24
    failed = [r for r in rows if r["status"] == "failed"]
    assert {r["params"]["tile.rows"] for r in failed} == {16} and len(failed) == 12
    assert all("cannot be mapped" in r["error"] for r in failed)
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(r["feasible"] and r["metrics"]["energy_per_sample"] > 0 for r in ok)
    vals = [[r["metrics"]["energy_per_sample"], r["metrics"]["latency_per_sample"]] for r in ok]
    want = {ok[i]["id"] for i in pareto_front(vals, ["min", "min"])}
    assert {r["id"] for r in rows if r["pareto"]} == want
    import csv
    with open(out / "pareto.csv") as fh:
        assert {r["id"] for r in csv.DictReader(fh)} == want
    with open(out / "results.csv") as fh:
        assert [r["id"] for r in csv.DictReader(fh)] == [p.id for p in spec.points]
    doc = json.loads((out / "results.json").read_text())
    assert doc["counts"] == {"ok": 12, "failed": 12, "pending": 0}
    e = ok[0]["breakdown"]["energy_by_kind_J"]
    assert sum(e.values()) == pytest.approx(ok[0]["metrics"]["energy_per_sample"])
    lat = ok[0]["breakdown"]["latency_by_phase_s"]
    assert set(lat) >= {"forward", "update"}


def test_metric_constraint_marks_infeasible(reference):
    spec, rows, out = reference
    ok = [r for r in rows if r["status"] == "ok"]
    cut = sorted(r["metrics"]["area_mm2"] for r in ok)[len(ok) // 2]
    from dataclasses import replace
    from hwsim.sweep.spec import Constraint
    tight = replace(spec, constraints=(Constraint(Expression(f"area_mm2 < {cut}"), None, True),))
    new = assemble(tight, {r["id"]: r for r in _lines(out)})
    for r in new:
        if r["status"] == "ok":
            assert r["feasible"] == (r["metrics"]["area_mm2"] < cut)
            assert not r["pareto"] or r["feasible"]


def test_resume_after_kill9(tmp_path, trace, reference):
    spec_ref, rows_ref, out_ref = reference
    sw = sweep_file(tmp_path, trace, RESUME_BODY)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "hwsim.cli", "sweep", str(sw), "-o", str(out),
                             "--workers", "1", "--no-plots", "--no-progress"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    log = out / "results.jsonl"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)              # the sweep and its worker
    proc.wait()
    n_before = len(_lines(out))
    assert 3 <= n_before < 24, proc.stderr.read().decode()[-2000:]
    with open(log, "ab") as fh:                      # a line torn by the crash
        fh.write(b'{"id": "deadbeef", "sta')
    rows = run_sweep(load_sweep(sw), out, workers=2, progress=False, plots=False)
    lines = _lines(out)
    assert len(lines) == 24 and len({r["id"] for r in lines}) == 24   # every point once
    assert _plain(lines) == _plain(_lines(out_ref))                   # = uninterrupted run
    assert [(r["id"], r["status"], r["pareto"], r["metrics"]) for r in rows] == \
        [(r["id"], r["status"], r["pareto"], r["metrics"]) for r in rows_ref]
    again = run_sweep(load_sweep(sw), out, workers=2, progress=False, plots=False)
    assert len(_lines(out)) == 24 and again == rows                   # nothing re-run


def test_retry_failed_and_foreign_results(tmp_path, trace, reference):
    spec, rows, out_ref = reference
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").write_text((out_ref / "results.jsonl").read_text())
    sw = sweep_file(tmp_path, trace, RESUME_BODY)
    run_sweep(load_sweep(sw), out, workers=2, progress=False, plots=False, retry_failed=True)
    lines = _lines(out)
    assert len(lines) == 24 + 12                   # failed points ran again, newest wins
    assert ResultLog(out).read().keys() == {p.id for p in spec.points}
    other = sweep_file(tmp_path, trace, RESUME_BODY + "seed: 9\n", name="other.yaml")
    with pytest.raises(ConfigError, match="different sweep"):
        run_sweep(load_sweep(other), out, workers=1, progress=False, plots=False)


def test_dask_matches_local_pool(tmp_path, trace, reference):
    pytest.importorskip("dask.distributed")
    from dask.distributed import LocalCluster
    spec, rows_ref, out_ref = reference
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        rows = run_sweep(spec, tmp_path / "out", scheduler=cluster.scheduler_address,
                         progress=False, plots=False)
    assert _plain(_lines(tmp_path / "out")) == _plain(_lines(out_ref))
    assert [(r["id"], r["status"], r["metrics"]) for r in rows] == \
        [(r["id"], r["status"], r["metrics"]) for r in rows_ref]


def test_experiment_sweep_with_plots(tmp_path, capsys):
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"""name: tiny
accelerator: {ACC}
workload:
  dataset: {{name: digits, limit_train: 60, limit_test: 30}}
  network: [{{linear: 8, activation: sigmoid}}, {{linear: 10}}]
training: {{algorithm: sgd, lr: 0.5, batch: 10, epochs: 1, params: {{weight_scale: 4}}}}
""")
    sw = tmp_path / "sw.yaml"
    sw.write_text("name: e\nbase: {experiment: exp.yaml}\nseed: 5\naxes:\n"
                  "  experiment.training.lr: [0.1, 0.5]\n"
                  "objectives: {accuracy: max, energy_per_sample: min}\n")
    assert main(["sweep", str(sw), "-o", str(tmp_path / "o"), "--workers", "2",
                 "--no-progress"]) == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["counts"]["ok"] == 2
    for r in doc["points"]:
        assert 0 <= r["metrics"]["accuracy"] <= 1
        rep = json.loads((tmp_path / "o" / "points" / r["id"] / "report.json").read_text())
        assert rep["meta"]["seed"] == r["seed"]          # the point's own seed drove the run
        assert rep["meta"]["config"]["experiment"]["training"]["lr"] == \
            r["params"]["experiment.training.lr"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in capsys.readouterr().out
    else:
        for stem in ("scatter", "energy_breakdown", "latency_breakdown"):
            assert (tmp_path / "o" / f"{stem}.png").stat().st_size > 1000
            assert (tmp_path / "o" / f"{stem}.svg").exists()


# ---------------------------------------------------------------- bad files ----------------
BAD = [
    ("axes:\n  tile.rowz: [64, 128]\n", ":6: axes.tile.rowz:", "unknown key"),
    ("axes:\n  tile.rows: []\n", ":6: axes.tile.rows:", "empty axis"),
    ("axes:\n  tile.rows: {start: 8, stop: 4, step: 1}\n", ":6: axes.tile.rows:", "empty axis"),
    ("axes:\n  tile.rows: [64]\nzip:\n  - {tile.rows: [32], tile.cols: [32]}\n",
     ":8: zip[0].tile.rows:", "conflicting axes"),
    ("axes:\n  tile: [{rows: 64}]\n  tile.rows: [64]\n", ":7: axes.tile.rows:",
     "conflicting axes"),
    ("axes:\n  tile.rows: [64]\n  tile.rows: [128]\n", ":7:", "duplicate key"),
    ("axes:\n  tile.periphery.adc.bits: [8, 40]\n", ":6: axes.tile.periphery.adc.bits:",
     "40"),
    ("axes:\n  device: [reram_softbounds, no_such_device]\n", ":6: axes.device:",
     "unknown device preset"),
    ("zip:\n  - {tile.rows: [32, 64], tile.cols: [32]}\n", ":6: zip[0]:", "equal lengths"),
    ("axes: {tile.rows: [64]}\nconstraints: ['tile.rows >']\n", ":6: constraints[0]:",
     "cannot parse"),
    ("axes: {tile.rows: [64]}\nconstraints: ['colz < 3']\n", ":6: constraints[0]:",
     "unknown name"),
    ("axes: {tile.rows: [64]}\nconstraints: ['tile.rows > 100']\n", "constraints:",
     "exclude every point"),
    ("axes: {tile.rows: [64]}\nobjectives: {accuracy: max}\n", ":6: objectives.accuracy:",
     "experiment base"),
    ("axes: {tile.rows: [64]}\nconstraints: ['accuracy > 0.5']\n", ":6: constraints[0]:",
     "experiment base"),
    ("axes: {tile.rows: [64]}\nconstraints: ['tile.rows.bit_length() > 3']\n",
     ":6: constraints[0]:", "not allowed"),
    ("axes: {experiment.training.lr: [0.1]}\n", ":5: axes.experiment.training.lr:",
     "no experiment"),
]


@pytest.mark.parametrize("body,where,what", BAD)
def test_bad_sweep_files_exit_2(tmp_path, trace, capsys, body, where, what):
    sw = sweep_file(tmp_path, trace, body)
    assert main(["sweep", str(sw), "-o", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwsim: error: ") and str(sw) in err, err
    assert where in err and what in err, err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_bad_base(tmp_path, trace, capsys):
    p = tmp_path / "sw.yaml"
    p.write_text(f"base:\n  accelerator: {ACC}\n  trace: nope.jsonl.gz\naxes: {{tile.rows: [64]}}\n")
    assert main(["sweep", str(p), "--no-progress"]) == 2
    assert f"{p}:3: base.trace: file not found" in capsys.readouterr().err
    p.write_text(f"base:\n  accelerator: {ACC}\naxes: {{tile.rows: [64]}}\n")
    assert main(["sweep", str(p), "--no-progress"]) == 2
    assert "exactly one of trace" in capsys.readouterr().err
