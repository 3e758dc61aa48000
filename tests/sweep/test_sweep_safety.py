"""Sweeps are bounded and their workers die with them (issue 14 items 4, 5).

* ``kill -9`` of ``hwsim sweep`` leaves no worker process behind (checked in /proc:
  every descendant of the killed process is gone within 5 s), for the local pool and
  for the Dask cluster the sweep starts itself (``--scheduler local``);
* constraint expressions evaluate in bounded time and size (the hand-made hostile
  cases of the issue) and the bounds are the documented ones;
* a grid over the budget is refused before it is built (``--allow-large`` lifts it);
* a malformed or unreachable ``--scheduler`` is one line, quickly.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.errors import ConfigError
from hwsim.sweep import grid
from hwsim.sweep.expr import MAX_INT_BITS, Expression, ExpressionError
from hwsim.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
TRACE = ROOT / "traces" / "digits_mlp_cttv2.jsonl.gz"
linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


# ---- expressions ------------------------------------------------------------------
@pytest.mark.parametrize("text, values, fragment", [
    ("9**9**9**9 > 1", {}, "integer result too large"),
    ("tile.rows ** 1000000 > 1", {"tile.rows": 256}, "integer result too large"),
    ("2 ** 300 > 1", {}, "integer result too large"),
    ("a * a > 0", {"a": 2 ** 200}, "integer too large"),          # 400-bit product
    ("a > 0", {"a": 2 ** 300}, "integer too large"),              # a too-large value
    ("10.0 ** 400 > 1", {}, "float overflow"),
    ("1e308 * 10 > 1", {}, "float overflow"),
    ("(1, 2) * 100000000 == 0", {}, "arithmetic needs numbers"),  # no list repetition
    ("'ab' * 1000000000 == 0", {}, "ab"),                         # a string is a quantity
    ("(-8) ** 0.5 > 0", {}, "not a real number"),
])
def test_hostile_expressions_fail_fast(text, values, fragment):
    t0 = time.perf_counter()
    with pytest.raises(ExpressionError, match=fragment.replace("(", r"\(")):
        Expression(text).evaluate(values)
    assert time.perf_counter() - t0 < 0.5


def test_expression_size_limits():
    with pytest.raises(ExpressionError, match="at most 1000 characters"):
        Expression("x < " + "1" * 1000)
    with pytest.raises(ExpressionError, match="terms and operators"):
        Expression("+".join(["x"] * 250) + " > 0")          # ~1000 nodes, 500 characters
    with pytest.raises(ExpressionError, match="cannot parse"):
        Expression("(" * 400 + "1" + ")" * 400 + " > 0")


def test_bounds_keep_ordinary_arithmetic():
    assert MAX_INT_BITS == 256
    assert Expression("2 ** 255 > 1").evaluate({})               # 256 bits: allowed
    assert Expression("tile.rows * tile.cols <= 65536").evaluate({"tile.rows": 256,
                                                                  "tile.cols": 256})
    assert Expression("(-1) ** 10000000000 == 1").evaluate({})   # |base| <= 1: cheap
    assert Expression("0.5 ** 100000000 == 0").evaluate({})      # underflow is 0, fine
    assert Expression("e < '2 uJ'").evaluate({"e": 1e-6})


def _sweep(tmp_path, body, name="s.yaml"):
    p = tmp_path / name
    p.write_text(f"name: s\nbase: {{accelerator: {ACC}, trace: {TRACE}}}\n" + body)
    return p


def test_constraint_error_names_the_line(tmp_path):
    sw = _sweep(tmp_path, "axes:\n  tile.rows: [64, 128]\nconstraints:\n"
                "  - tile.rows ** 1000000 > 1\n")
    with pytest.raises(ConfigError) as ei:
        load_sweep(str(sw))
    assert "s.yaml:6:" in ei.value.one_line() and "too large" in ei.value.one_line()


# ---- grid budget ------------------------------------------------------------------
def test_grid_over_budget_is_refused_before_it_is_built(tmp_path, capsys):
    # the grid: 16 × 10⁵ × 10⁵ = 1.6·10¹¹ points (7.7 GB before this check)
    sw = _sweep(tmp_path, "axes:\n  tile.rows: {start: 1, stop: 16, step: 1}\n"
                "  tile.cols: {start: 1, stop: 100000, step: 1}\n"
                "  tile.periphery.adc.bits: {start: 1, stop: 100000, step: 1}\n")
    t0 = time.perf_counter()
    assert main(["sweep", str(sw), "-o", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "16 × 100000 × 100000" in err[0] and "--allow-large" in err[0]
    assert time.perf_counter() - t0 < 30
    huge = _sweep(tmp_path, "axes:\n  tile.rows: {start: 1, stop: 1e15, step: 1}\n", "h.yaml")
    with pytest.raises(ConfigError, match="1e\\+15 values"):
        load_sweep(str(huge))


def test_allow_large_lifts_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(grid, "MAX_POINTS", 3)
    sw = _sweep(tmp_path, "axes:\n  tile.rows: [64, 128]\n  tile.cols: [64, 128]\n")
    with pytest.raises(ConfigError, match="2 × 2 = 4 points"):
        load_sweep(str(sw), validate=False)
    assert len(load_sweep(str(sw), validate=False, allow_large=True).points) == 4


# ---- --scheduler ------------------------------------------------------------------
@pytest.mark.parametrize("address, fragment, limit", [
    ("nonsense", "missing port", 5), ("foo://x:1", "unknown address scheme", 5),
    ("tcp://127.0.0.1:1", "Timed out", 15)])
def test_bad_scheduler_is_one_line(tmp_path, capsys, address, fragment, limit):
    pytest.importorskip("dask.distributed")
    sw = _sweep(tmp_path, "axes:\n  tile.rows: [64, 128]\n")
    t0 = time.perf_counter()
    assert main(["sweep", str(sw), "--scheduler", address, "-o", str(tmp_path / "o"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0] and "--scheduler" in err[0], err
    assert time.perf_counter() - t0 < limit


# ---- kill -9 ----------------------------------------------------------------------
def _children() -> dict:
    """pid -> parent pid of every process (from /proc)."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z":                      # zombies are dead
                out[int(d.name)] = int(fields[1])
    return out


def _descendants(pid: int) -> set:
    procs, found, todo = _children(), set(), [pid]
    while todo:
        p = todo.pop()
        for c, pp in procs.items():
            if pp == p and c not in found:
                found.add(c)
                todo.append(c)
    return found


EXPERIMENT = """\
name: slow
accelerator: {acc}
workload:
  dataset: digits
  network: [{{linear: 32, activation: sigmoid}}, {{linear: 10}}]
training: {{algorithm: sgd, lr: 0.5, batch: 10, epochs: 3, params: {{weight_scale: 4}}}}
"""


@linux
@pytest.mark.parametrize("scheduler", [None, "local"])
def test_kill_9_of_a_sweep_leaves_no_workers(tmp_path, scheduler):
    if scheduler:
        pytest.importorskip("dask.distributed")
    (tmp_path / "exp.yaml").write_text(EXPERIMENT.format(acc=ACC))
    sw = tmp_path / "sw.yaml"
    sw.write_text("name: slow\nbase: {experiment: exp.yaml}\naxes:\n"
                  "  experiment.training.lr: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]\n")
    cmd = [sys.executable, "-c", "import sys; from hwsim.cli import main; "
           "sys.exit(main(sys.argv[1:]))", "sweep", str(sw), "-o", str(tmp_path / "o"),
           "--workers", "2", "--no-progress", "--no-plots"]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers, deadline = set(), time.time() + 60
        while len(workers) < 2 and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
            workers = _descendants(p.pid)
        assert len(workers) >= 2, "the sweep did not start its workers"
        time.sleep(1.0)                                 # let them get busy
        workers = _descendants(p.pid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        deadline = time.time() + 5
        alive = workers
        while alive and time.time() < deadline:
            time.sleep(0.1)
            alive = workers & set(_children())
        assert not alive, f"workers still running 5 s after kill -9: {sorted(alive)}"
    finally:
        if p.poll() is None:
            p.kill()


def test_metric_constraint_error_is_one_line(tmp_path, capsys):
    # area_mm2 is a float well above 1e-3 mm^2: (1e3·area)^1000 overflows -> an error at
    # the constraint's line
    sw = _sweep(tmp_path, "axes:\n  tile.rows: [64]\nconstraints:\n"
                "  - (area_mm2 * 1000) ** 1000 > 1\n")
    assert main(["sweep", str(sw), "-o", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress", "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "s.yaml:6: constraints:" in err[0] and "overflow" in err[0], err
    assert (tmp_path / "o" / "results.jsonl").read_text().count("\n") == 1   # result kept
