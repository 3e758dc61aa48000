"""Symbolic mode: an algorithm's program run on shapes, with expected statistics.

``hwsim trace generate`` (:mod:`hwsim.training.trace_generate`) runs the *same*
algorithm code as ``hwsim run``, against stand-ins that carry shapes and the
statistics model below instead of numbers, so the op stream is written once (in the
algorithm) and the generator derives it.  Nothing here is O(weights): a stand-in
batch is a shape and a sparsity, an array is a shape.

* :class:`Expect` — a batch of vectors (rows, width) whose entries are zero with
  probability ``s``; nonzero normalised magnitudes are uniform on (0, 1], so
  ``E|x̂| = (1−s)/2`` and ``E x̂² = (1−s)/3``.  A one-hot batch (column reads,
  Tiki-Taka v1 transfers) has one entry of magnitude 1 per row: ``E|x̂| = 1/width``.
* :class:`ExpectCounts` — the pulse counts a threshold test sends to an array: a
  fraction ``h`` (``h_write``) of the M × k elements fires, each with
  ``pulses_per_write`` pulses.
* :class:`SymbolicArray` — an :class:`~hwsim.training.algorithms.analog.AnalogArray`
  whose numerics are the model (it inherits the op-issuing code).
* :class:`SymbolicContext` — the context an algorithm gets in symbolic mode
  (``Algorithm.symbolic`` is true; the numerics of digital buffers are the model's).

Statistics model (PHYSICS.md §2–3; Gokmen & Vlasov, Front. Neurosci. 10:333, 2016;
Rasch et al., Nat. Commun. 15:7133, 2024), parameters in :data:`MODEL`:

* MVM of V vectors on M × N: ``sum_gv2 = V·M·N·g·(1−s)/3`` (g = ``g_mean``); no ADC
  saturations and no bound-management repeats.  A one-hot read of k columns:
  ``sum_gv2 = k·M·g``.
* Pulsed update of V vectors: ``n = V·BL`` slots (``bl``); column j fires per slot with
  ``q_x = E|x̂|``, row i with ``q_d = E|d̂|`` (update management scales the largest
  entry to probability ≈ 1), so ``col_slots = n·N·q_x``, ``row_slots = n·M·q_d``,
  ``pulses = n·M·N·q_x·q_d``; ``rng_draws = n·(M+N)`` for ``stochastic_compressed``.
* Threshold writes (buffers H, χ, HIC accumulator): ``writes = M·k·h`` elements fire
  with ``pulses_per_write`` pulses each; a parallel write of them has
  ``n = pulses_per_write`` slots, ``row_slots = n·M·(1−(1−h)^k)``,
  ``col_slots = n·k·(1−(1−h)^M)``; a serial one ``M·(1−(1−h)^k)`` row steps.
* Random chopper flips: the expectation ``p·lines``, carried as a running fraction
  and issued when whole (regular flips are exact).  HIC carries and PCM refreshes:
  none (rare events).

Every count is rounded to the nearest integer.
"""
from __future__ import annotations

import zlib
from types import SimpleNamespace

import numpy as np

from hwsim.physics.periphery import MVMStats
from hwsim.training.algorithms.analog import AnalogArray

#: statistics model of symbolic mode (see the module docstring)
MODEL = {"input_sparsity": 0.5, "error_sparsity": 0.0, "g_mean": 0.5, "bl": 4,
         "pulse_type": "stochastic_compressed", "h_write": 0.02, "pulses_per_write": 1}


class Expect:
    """Shape-only stand-in for a batch of vectors: ``shape`` and the zero fraction ``s``.

    Element-wise arithmetic with signs, gains or other batches (choppers, ``−v``,
    ``v − p``) keeps the statistics; slicing rows keeps them with fewer rows."""

    __slots__ = ("shape", "s", "q")

    def __init__(self, shape, s: float = 0.0, q: float | None = None):
        self.shape = tuple(int(v) for v in shape)
        self.s = float(s)
        self.q = (1 - self.s) * 0.5 if q is None else float(q)   # E|x̂|: fire probability

    @classmethod
    def one_hot(cls, rows: int, width: int) -> "Expect":
        return cls((rows, width), s=1.0 - 1.0 / width, q=1.0 / width)

    def __len__(self):
        return self.shape[0]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def T(self) -> "Expect":
        return Expect(self.shape[::-1], self.s, self.q)

    def __getitem__(self, key):
        rows = range(self.shape[0])[key if not isinstance(key, tuple) else key[0]]
        return Expect((len(rows),) + self.shape[1:], self.s, self.q)

    def _same(self, other=None):
        return self

    __mul__ = __rmul__ = __truediv__ = __add__ = __radd__ = __sub__ = __rsub__ = _same
    __neg__ = __pos__ = _same


class ExpectCounts:
    """Pulse counts (M, k) of a threshold test: a fraction ``h`` fires, ``ppw`` pulses each."""

    def __init__(self, rows: int, cols: int, h: float, ppw: int):
        self.shape = (int(rows), int(cols))
        self.h, self.ppw = float(h), int(ppw)
        self.writes = int(round(rows * cols * h))
        self.total = self.writes * self.ppw

    def rows_written(self) -> int:
        m, k = self.shape
        return int(round(m * (1 - (1 - self.h) ** k)))

    def cols_written(self) -> int:
        m, k = self.shape
        return int(round(k * (1 - (1 - self.h) ** m)))

    def row_max(self) -> np.ndarray:
        """Longest count per row, as the serial-write op reads it (rows written × ppw)."""
        out = np.zeros(self.shape[0], np.int64)
        out[:self.rows_written() if self.writes else 0] = self.ppw
        return out

    def slots(self) -> tuple[int, int, int]:
        """(slots, row_slots, col_slots) of one parallel train of these counts."""
        m, k = self.shape
        h, n = self.h, self.ppw
        return (n, int(round(n * m * (1 - (1 - h) ** k))),
                int(round(n * k * (1 - (1 - h) ** m))))


class StatModel:
    """The expected statistics of the module docstring (``params``: :data:`MODEL` keys)."""

    def __init__(self, **params):
        self.p = {**MODEL, **params}
        p = self.p
        self.g = p["g_mean"]
        self.bl = p["bl"]
        self.pulse_type = p["pulse_type"]
        self.h = p["h_write"]
        self.ppw = int(p["pulses_per_write"])
        self._carry: dict = {}

    def inputs(self, rows, width) -> Expect:
        return Expect((rows, width), self.p["input_sparsity"])

    def errors(self, rows, width) -> Expect:
        return Expect((rows, width), self.p["error_sparsity"])

    def mvm(self, v, shape, transposed: bool):
        """(y, MVMStats) of the MVM of the batch ``v`` on an M × N array."""
        m, n = shape
        stats = MVMStats(sum_gv2=float(len(v) * m * n * self.g * (1 - v.s) / 3.0))
        return Expect((len(v), n if transposed else m)), stats

    def read(self, k: int, m: int):
        """(v, MVMStats) of one-hot reads of k columns of an array with M rows."""
        return Expect((k, m)), MVMStats(sum_gv2=float(k * m * self.g))

    def pulsed(self, x, d):
        """The update statistics of the pulse trains of x (V, N) and d (V, M)."""
        v, n = x.shape
        m = d.shape[1]
        slots = int(round(v * self.bl))
        return SimpleNamespace(
            scheme="parallel", pulse_type=self.pulse_type, rows=m, cols=n, samples=int(v),
            pulse_slots=slots, device_pulses=int(round(slots * m * n * x.q * d.q)),
            row_pulse_slots=int(round(slots * m * d.q)),
            col_pulse_slots=int(round(slots * n * x.q)))

    def threshold(self, rows: int, cols: int) -> ExpectCounts:
        return ExpectCounts(rows, cols, self.h, self.ppw)

    def flips(self, key, lines: int, prob: float) -> int:
        """Expected random flips of ``lines`` lines with probability ``prob``, carried."""
        c = self._carry.get(key, 0.0) + lines * prob
        whole = int(c)
        self._carry[key] = c - whole
        return whole


class SymbolicContext:
    """What an algorithm gets in symbolic mode: the model, the op sink, named streams."""

    accelerator = None
    device = None
    backend = "numpy"

    def __init__(self, model: StatModel, hw, seed: int = 0, tile_shape=None):
        self.model, self.hw, self.seed = model, hw, seed
        #: (rows, cols) of the tiles the trace is for: a layer larger than one is split
        #: as a recorded run splits it (per-tile reads, flips and transfer pointers);
        #: None: every layer on one array
        self.tile_shape = None if tile_shape is None else tuple(int(v) for v in tile_shape)
        self.rngs: dict = {}

    def rng(self, name: str) -> np.random.Generator:
        if name not in self.rngs:
            self.rngs[name] = np.random.default_rng([self.seed, zlib.crc32(name.encode())])
        return self.rngs[name]


class SymbolicArray(AnalogArray):
    """An M × N array of shape only: the op-issuing methods of :class:`AnalogArray`
    with the model's statistics in place of the physics."""

    granularity = 1.0

    def __init__(self, ctx, layer: str, role: str, shape, **_):
        self.ctx = ctx
        self.layer, self.role = str(layer), str(role)
        self._shape = tuple(int(v) for v in shape)
        self.pulses = 0

    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def model(self) -> StatModel:
        return self.ctx.model

    def _mvm(self, v, transposed: bool):
        return self.model.mvm(v, self._shape, transposed)

    def mvm_sum(self, weights, v, transposed: bool):
        return self.model.mvm(v, self._shape, transposed)

    def _read(self, cols, minus):
        return self.model.read(len(cols), self._shape[0])

    def _pulse_trains(self, x, d, lr):
        return self.model.pulsed(x, d)

    def program(self, counts, cols=None) -> int:
        self.pulses += counts.total
        return counts.total

    def _train_of(self, counts):
        return counts.slots()

    def end_of_batch(self) -> None:
        pass

    def note_write(self, reference: bool = False, cols=None) -> None:
        pass
