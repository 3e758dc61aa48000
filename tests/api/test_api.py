"""The public Python API, used only through ``import hwsim`` (its ``__all__`` names)."""
import json
import math
from pathlib import Path

import pytest

import hwsim

ROOT = Path(__file__).resolve().parents[2]
NET = "networks/digits_mlp.yaml"                 # resolved under the shipped configs/
ACC = "accelerators/cttv2_tile.yaml"


def test_the_public_names_exist_and_are_documented():
    for name in hwsim.__all__:
        obj = getattr(hwsim, name)
        if callable(obj) and not isinstance(obj, type(hwsim.HwsimError)):
            assert (obj.__doc__ or "").strip(), f"hwsim.{name} has no docstring"
    assert issubclass(hwsim.ConfigError, hwsim.HwsimError)
    assert {"json", "csv", "text"} <= set(hwsim.FORMATS)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One epoch of the embedded quickstart, with a per-epoch callback."""
    seen = []
    out = tmp_path_factory.mktemp("quick")
    rep = hwsim.run(None, epochs=1, out=out, progress=seen.append)
    return rep, seen, out


def test_run_returns_a_report_and_calls_back_every_epoch(quick):
    rep, seen, out = quick
    assert isinstance(rep, hwsim.Report)
    assert [e["epoch"] for e in seen] == [1]
    # the callback's record is the report's history; digits: 1797 images, 80 % for training
    assert rep.history == seen and rep.accuracy == [seen[0]["test_accuracy"]]
    assert rep.final_accuracy == seen[0]["test_accuracy"] and 0 < rep.final_accuracy <= 1
    assert rep.per_sample["samples"] == seen[0]["samples"] == 1438
    assert rep.algorithm == "c-ttv2" and rep.name == "quickstart"
    assert rep.units["energy_by_layer"] == "J" and rep.units["latency_by_phase"] == "s"
    assert sorted(Path(f).name for f in rep.files) == ["energy.csv", "report.json"]
    # the object is the file: report.json holds exactly to_dict()
    assert json.loads((out / "report.json").read_text()) == rep.to_dict()


def test_report_totals_are_the_sums_of_their_breakdowns(quick):
    rep = quick[0]
    rows = rep.to_dict()["energy"]["rows"]
    # energy conservation: total = Σ count × unit price over the priced ledger rows
    assert math.isclose(rep.energy_J, math.fsum(r["count"] * r["price_J"] for r in rows),
                        rel_tol=1e-12)
    for part in (rep.energy_by_component, rep.energy_by_action, rep.energy_by_phase,
                 rep.energy_by_layer):
        assert math.isclose(math.fsum(part.values()), rep.energy_J, rel_tol=1e-12)
    # the 64-32-10 MLP has two layers; c-TTv2 keeps A, C and R arrays of each on tiles
    layers = rep["extra"]["mapping"]["layers"]
    assert list(layers) == ["fc1", "fc2"] and set(layers["fc1"]) == {"A", "C", "R"}
    assert set(rep.energy_by_layer) == {"fc1", "fc2", "(shared)"}
    assert rep.energy_by_layer["fc1"] > rep.energy_by_layer["fc2"] > 0   # 32×64 vs 10×32
    assert math.isclose(math.fsum(rep.area_by_component.values()), rep.area_m2, rel_tol=1e-12)
    assert math.isclose(rep.power_W, rep.energy_J / rep.latency_s, rel_tol=1e-12)
    # sequential schedule: the phases partition the run's time
    assert math.isclose(math.fsum(rep.latency_by_phase.values()), rep.latency_s, rel_tol=1e-9)
    assert all(0 <= u <= 1 for u in rep.utilization.values())


def test_to_frame_needs_pandas(quick):
    rep = quick[0]
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            rep.to_frame()
        return
    df = rep.to_frame("energy")
    assert math.isclose(df["energy_J"].sum(), rep.energy_J, rel_tol=1e-12)
    assert len(rep.to_frame("history")) == 1


def test_run_from_a_dict_with_overrides(tmp_path):
    exp = {"name": "tiny", "workload": {"dataset": "digits",
                                        "network": [{"linear": 10}]},
           "training": {"algorithm": "sgd", "lr": 0.1, "batch": 10, "epochs": 1},
           "run": {"seed": 3, "out": str(tmp_path / "a"), "progress": False}}
    rep = hwsim.run(exp, overrides={"accelerator.tile.count": 2, "training.batch": 20},
                    formats=("json", "text"))
    cfg = rep["meta"]["config"]
    assert cfg["accelerator"]["tile"]["count"] == 2
    assert cfg["experiment"]["training"]["batch"] == 20 and rep["meta"]["seed"] == 3
    assert sorted(Path(f).name for f in rep.files) == ["report.json", "report.txt"]
    assert (tmp_path / "a" / "report.txt").read_text().startswith("hwsim report: tiny")


def test_loaded_configs_take_overrides_through_their_file():
    acc = hwsim.load_accelerator(ACC)
    assert hwsim.load_accelerator(acc) is acc
    assert hwsim.load_accelerator(acc, {"tile.count": 3}).tile.count == 3
    exp = hwsim.load_experiment()                                   # the quickstart
    assert exp.name == "quickstart"
    assert hwsim.load_experiment(exp, {"training.epochs": 7}).training.epochs == 7
    inline = hwsim.load_accelerator({"name": "inline"})
    with pytest.raises(hwsim.ConfigError, match="file it was read from"):
        hwsim.load_accelerator(inline, {"tile.count": 3})


def test_errors_are_exceptions_with_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\ntraining:\n  lr: -1\n")
    with pytest.raises(hwsim.ConfigError) as exc:
        hwsim.run(bad, progress=False)
    assert exc.value.file == str(bad) and exc.value.line == 3 and exc.value.key == "training.lr"
    with pytest.raises(hwsim.ConfigError) as exc:
        hwsim.load_accelerator(ACC, {"tile.periphery.adc.bits": "eight"})
    assert exc.value.key == "tile.periphery.adc.bits"
    with pytest.raises(hwsim.HwsimError):
        hwsim.describe("no-such-kind")
    with pytest.raises(hwsim.ConfigError, match="unknown report format"):
        hwsim.Report(quick_report()).write(tmp_path, formats=("nope",))


def quick_report() -> dict:
    return {"name": "", "latency": {"total_s": 0.0, "phases": {}, "components": {}}}


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    out = tmp_path_factory.mktemp("trace") / "sgd.jsonl.gz"
    return hwsim.generate_trace(NET, algorithm="sgd", batch=10, steps=3, out=out)


def test_generate_trace_counts(trace):
    assert isinstance(trace, hwsim.TraceInfo) and trace.path.is_file()
    # 3 steps of 10 samples; SGD on the 2-layer MLP issues per step 2 forward MVMs,
    # 1 backward MVM (the first layer needs no input error), 2 updates, 2 activation
    # passes and 1 loss gradient (the runner's op order, hwsim/training/trace_generate.py) = 8 ops,
    # plus 11 data moves (hwsim/training/dataflow.py): 2 x (read input, write output),
    # the loss error write, layer 2's error read + write of layer 1's, 2 x (re-read
    # input, read error) for the update = 19 ops per step
    assert (trace.steps, trace.samples, trace.ops) == (3, 30, 57)
    assert trace.bytes == trace.path.stat().st_size


@pytest.fixture
def extra_format():
    """A report format declared here only: the sample count as one line."""
    def write(report, path):
        Path(path).write_text(f"{report['per_sample']['samples']}\n")
    fmt = hwsim.register_format("samples", "samples.txt", write, "samples simulated")
    yield fmt
    del hwsim.FORMATS[fmt.name]


def test_replay_and_a_format_declared_in_a_test(trace, tmp_path, extra_format):
    rep = hwsim.replay(ACC, trace.path, progress=False)
    assert rep.files == () and rep.out is None            # nothing written without out
    assert rep.per_sample["samples"] == 30 and rep.latency_s > 0 and rep.accuracy == []
    assert math.isclose(math.fsum(rep.energy_by_component.values()), rep.energy_J,
                        rel_tol=1e-12)
    again = hwsim.replay(ACC, trace.path, out=tmp_path / "r", progress=False, cache=False,
                         formats=("json", "samples"))
    assert sorted(Path(f).name for f in again.files) == ["report.json", "samples.txt"]
    assert (tmp_path / "r" / "samples.txt").read_text() == "30\n"
    # the op cache is exact: same latency and energy without it
    assert (again.latency_s, again.energy_J) == (rep.latency_s, rep.energy_J)
    run = hwsim.run(None, epochs=1, out=tmp_path / "q", progress=False, formats=("samples",))
    assert [Path(f).name for f in run.files] == ["samples.txt"]
    assert (tmp_path / "q" / "samples.txt").read_text() == "1438\n"


def test_sweep_returns_points_and_the_pareto_front(trace, tmp_path):
    spec = tmp_path / "s.yaml"
    acc = ROOT / "configs" / "accelerators" / "analog_tile.yaml"
    spec.write_text(f"name: api\nbase:\n  accelerator: {acc}\n  trace: {trace.path}\n"
                    "axes:\n  tile.rows: [64, 128, 256]\n  tile.periphery.adc.bits: [6, 8]\n"
                    "objectives: {energy_per_sample: min, latency_per_sample: min}\n")
    res = hwsim.sweep(spec, out=tmp_path / "o", workers=1, progress=False, plots=False)
    assert isinstance(res, hwsim.SweepResult) and len(res.points) == 6 and not res.failed
    vals = {p["id"]: (p["metrics"]["energy_per_sample"], p["metrics"]["latency_per_sample"])
            for p in res.points}

    def dominated(a):   # brute force: some other point no worse in both, better in one
        return any(b != a and all(x <= y for x, y in zip(b, a)) for b in vals.values())
    assert {p["id"] for p in res.front} == {i for i, v in vals.items() if not dominated(v)}
    assert res.front and (tmp_path / "o" / "results.csv").is_file()


def test_validate_describe_schema_expand():
    v = hwsim.validate(ACC)
    assert v.kind == "accelerator" and "components" in v.summary
    e = hwsim.validate(ROOT / "configs" / "quickstart.yaml")
    assert e.kind == "experiment" and e.config.training.algorithm == "c-ttv2"
    assert hwsim.describe("adc") == hwsim.describe("ADC") and "bits" in hwsim.describe("ADC")
    assert "component kinds:" in hwsim.describe()
    assert hwsim.schema("accelerator")["title"] == "hwsim accelerator"
    doc = hwsim.expand(ACC, {"tile.count": 2})
    # cttv2_tile: buffer, noc, digital, dram + per tile dac, array, pgen, adc, chopper, acc
    assert len(doc["components"]) == 4 + 2 * 6 and doc["tile"]["count"] == 2
    assert hwsim.validate(doc).summary == hwsim.validate(ACC, {"tile.count": 2}).summary
