"""``chop_per_sample``: the chopper period of a layer of V vectors per sample in samples.

Hand counts (regular chopper, ``in_chop_random: false``): a column of an N-wide layer is
read every N vector updates (n_reads 1, transfer_every 1) and c_in_k flips every
h = max(ceil(1/p), 2) reads, i.e. every h·N vectors = h·N/V samples.  With
``chop_per_sample`` the engine uses p/V, so h·N/V·V = h·N samples, as on a dense layer."""
from __future__ import annotations

import math
import types

import numpy as np
import pytest

from tests.training.test_algorithms import _algo

REGULAR = {"auto_granularity": 0, "in_chop_random": False, "in_chop_prob": 0.1}


def _engine(name, per_sample, n=4, m=3):
    algo = _algo(name, dict(REGULAR, chop_per_sample=per_sample))
    algo.make_backend("fc", m, n, np.zeros((m, n)))
    return algo, algo.engines["fc"]


def _network(layer):
    return types.SimpleNamespace(analog_layers=lambda: [layer])


@pytest.mark.parametrize("name", ["c-ttv2", "agad"])
def test_default_keeps_the_probability_per_read(name):
    _algo_, eng = _engine(name, False)
    assert eng.in_chop_prob == 0.1                 # as given: no V
    assert eng.half_period == 10                   # ceil(1/0.1)


@pytest.mark.parametrize("name", ["c-ttv2", "agad"])
def test_flips_per_sample_equal_a_dense_layer(name):
    """16 tokens of a 4-wide layer, 2 samples per batch, 80 batches = 160 samples:
    2560 vectors, 2560 reads, 640 per column.  Per read p/16 = 1/160 → half-period 160
    reads → 640/160 = 4 flips per column (16 in all); without the option 64 per column."""
    n, v, batch, batches = 4, 16, 2, 80
    counts = {}
    for per_sample in (False, True):
        algo, eng = _engine(name, per_sample, n=n)
        rng = np.random.default_rng(0)
        layer = types.SimpleNamespace(name="fc", vectors_per_sample=v)
        for _ in range(batches):
            layer.last_input = rng.standard_normal((batch * v, n)) * 0.1
            layer.last_delta = rng.standard_normal((batch * v, 3)) * 0.1
            algo.update(_network(layer), batch)
        assert eng.stats["reads"] == batch * v * batches
        counts[per_sample] = eng.stats["flips"]
        if per_sample:
            assert eng.in_chop_prob == pytest.approx(0.1 / v)
            assert eng.half_period == math.ceil(v / 0.1)
    assert counts[False] == n * (batch * v * batches // n) // 10      # 4 · 640/10 = 256
    assert counts[True] == n * (batch * v * batches // n) // 160      # 4 · 640/160 = 16
