"""Every algorithm the generator knows yields a trace that replays on the c-TTv2 tile with
every action priced (an unpriced op kind would raise), energy conserved."""
from pathlib import Path

import pytest

from hwsim.report.replays import replay
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
