"""The component process (inlined stage loop) equals the reference stage formula
:func:`hwsim.core.transaction.stage_timing` for any latency, II, stream and busy state."""
from hypothesis import given, settings, strategies as st

from hwsim.core import ActionLedger, Clock, Component, stage_timing
from hwsim.sim.engine import Simulator


class _Stage(Component):
    KIND = "EquivStage"
    OPS = ("move",)

    def __init__(self, path, clock, ledger, latency, ii):
        super().__init__(path, None, clock, ledger)
        self.latency, self.ii = latency, ii

    def timing(self, txn):
        return self.latency, self.ii


@settings(max_examples=150, deadline=None)
@given(latency=st.integers(0, 40), ii=st.integers(1, 9), n=st.integers(1, 50),
       t_first=st.integers(0, 60_000), spread=st.integers(0, 90_000),
       free_at=st.integers(0, 80_000), freq=st.sampled_from([1e9, 1.28e9, 1.25e9, 3.3e8]))
def test_process_matches_stage_formula(latency, ii, n, t_first, spread, free_at, freq):
    clock = Clock("c", freq)
    comp = _Stage("s", clock, ActionLedger(), latency, ii)
    sim = Simulator({"s": comp})
    comp.free_at = free_at
    h = sim.submit("move", n, ("s",), at=t_first, last=t_first + spread)
    sim.run()
    ref = stage_timing(clock, latency, ii, n, t_first, t_first + spread, free_at)
    assert (h.t_first_out, h.t_end, comp.free_at) == (ref.first_out, ref.last_out, ref.free_at)
    assert comp.stats["busy_ticks"] == ref.busy
    assert comp.stats["wait_ticks"] == max(0, ref.start - t_first)
