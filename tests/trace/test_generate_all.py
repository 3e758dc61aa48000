"""Every algorithm the generator knows yields a trace that replays on the c-TTv2 tile with
every action priced (an unpriced op kind would raise), energy conserved."""
from pathlib import Path

import pytest

from hwsim.api import replay
from hwsim.trace.generate import ALGORITHMS, generate_trace

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_generated_trace_replays_fully_priced(tmp_path, algorithm):
    t = generate_trace(str(ROOT / "configs" / "networks" / "digits_mlp.yaml"), 10, 3, algorithm,
                       out=tmp_path / f"{algorithm}.jsonl.gz")
    rep = replay(str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"), t, progress=False)
    rows = rep["energy"]["rows"]
    assert rep["energy"]["total_J"] > 0 and rep["latency"]["total_ticks"] > 0
    assert sum(r["count"] * r["price_J"] for r in rows) == pytest.approx(
        rep["energy"]["total_J"], rel=1e-12)


def test_replay_timelines_equal_the_recorded_runs(tmp_path):
    """A run's Chrome-trace and VCD timelines are reproduced exactly by replaying its trace."""
    from hwsim.cli import main
    out = tmp_path / "run"
    exp = ROOT / "configs" / "quickstart.yaml"
    assert main(["run", str(exp), "--epochs", "1", "--no-progress", "--out", str(out),
                 "--set", "workload.dataset={name: digits, limit_train: 60, limit_test: 30}",
                 "--trace", str(tmp_path / "t.jsonl.gz"), "--timeline", str(tmp_path / "a.json"),
                 "--vcd", str(tmp_path / "a.vcd")]) == 0
    assert main(["replay", str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"),
                 str(tmp_path / "t.jsonl.gz"), "--no-progress", "-o", str(tmp_path / "r"),
                 "--timeline", str(tmp_path / "b.json"), "--vcd", str(tmp_path / "b.vcd")]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.vcd").read_bytes() == (tmp_path / "b.vcd").read_bytes()
    assert b'"ph": "X"' in (tmp_path / "a.json").read_bytes()
