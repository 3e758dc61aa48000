"""One crossbar array of one layer in one role, and the weight backend built on them.

:class:`AnalogArray` is the unit every in-memory training algorithm programs: a
:class:`~hwsim.physics.device_array.DeviceArray` (M × N devices, PHYSICS.md §1) with
the forward/backward periphery numerics of the accelerator's tile (PHYSICS.md §3)
and its pulsed update (PHYSICS.md §2).  Every method does the numbers *and* issues
the matching hardware operation on ``ctx.hw`` (a :class:`hwsim.sim.hardware.Hardware`
or a :class:`NullHardware`), so the accuracy and the latency/energy come from the
same program:

====================  ==========================================  ===================
method                numerics                                    op issued
====================  ==========================================  ===================
``forward(x)``        ``y = W x`` through DAC/array/ADC           ``forward``  n = B + BM repeats
``backward(d)``       ``g = Wᵀ d``                                ``backward`` n = B + BM repeats
``pulsed_update``     ``ΔW = −η Σ_b d_b x_bᵀ`` (bit trains)        ``update``   n = Σ_b BL_b slots
``apply_pulses(n)``   ``|n_ij|`` pulses, up where n_ij > 0         ``update``   n = max|n| slots
``read_columns(k)``   one-hot ``e_k`` through the forward path     ``read_column`` n = reads
====================  ==========================================  ===================

Random streams are named ``f"{layer}/{role}/{use}"`` (use = init, forward,
backward, read, update, write) through ``ctx.rng``, so every array is reproducible
bit for bit and adding an array never changes another's draws.

:class:`AnalogWeights` is the :class:`~hwsim.training.layers_dense.WeightBackend`
of an analog layer: its MVMs run on ``W̄ = Σ_r γ_r W_r`` over one or more arrays
(``W`` for analog SGD; ``C + γA`` for Tiki-Taka / residual learning, Gokmen &
Haensch, Front. Neurosci. 14:103, 2020; Wu et al., NeurIPS 2024).  The arrays of a
sum are driven with the same input and their currents add on the shared output
lines, so one periphery pass reads the sum; an op is issued on each array read.
"""
from __future__ import annotations

import numpy as np

from hwsim.physics.device_array import DEFAULT_PRECISION, DeviceArray
from hwsim.physics.ir_drop import IRDropCache
from hwsim.physics.periphery import MVMStats, abs_column_sums, abs_line_sums, mvm
from hwsim.physics.update import UpdateStats, apply_pulses, apply_pulses_chunks, pulsed_update
from hwsim.training.algorithms import tiles


def mvm_meta(st: MVMStats) -> dict:
    """The op fields of an MVM's statistics (forward, backward, read_column; declared in
    hwsim.core.ops)."""
    return {"sum_gv2": float(st.sum_gv2), "adc_saturations": int(st.saturations),
            "bm_repeats": int(st.bm_repeats)}


class AnalogArray:
    """One M × N crossbar array (``layer``/``role``) with its periphery and update.

    ``ctx`` is the runner's :class:`~hwsim.training.runner.Context`
    (``accelerator``, ``device``, ``rng(name)``, ``backend``, ``hw``).  ``device``
    overrides ``ctx.device`` (e.g. an ideal reference array); ``init_w`` programs
    the initial weights (clipped into each device's bounds).
    """

    def __init__(self, ctx, layer: str, role: str, shape, *, device=None, init_w=None):
        self.ctx = ctx
        self.layer, self.role = str(layer), str(role)
        tile = ctx.accelerator.tile
        self.fwd_cfg = tile.mvm_config("forward")
        self.bwd_cfg = tile.mvm_config("backward")
        self.update_cfg = tile.update
        self.device = device if device is not None else ctx.device
        self.array = DeviceArray(self.device, tuple(shape), self.rng("init"),
                                 getattr(ctx, "precision", DEFAULT_PRECISION))
        if init_w is not None:
            self.array.set_weights(init_w, self.rng("write"))
        self.granularity = float(self.array.granularity)
        self.pulses = 0                  # device pulses applied so far (energy / endurance)
        # IR drop (TxSim): W_eff per read direction, recomputed only when the weights moved
        self.ir = {d: IRDropCache.from_config(c) for d, c in
                   (("forward", self.fwd_cfg), ("backward", self.bwd_cfg)) if c.ir_drop > 0}
        self._read_cache = None          # visible weights and line sums, dropped by writes
        self._ref_zero = None            # (reference array, all zero?)
        self._tile_ir = {}               # (direction, tile) -> IRDropCache (several tiles)
        self._subs = None                # (device state, per-tile DeviceArrays) for updates

    def _w_eff(self, w, direction: str):
        cache = self.ir.get(direction)
        return None if cache is None else cache.get(w, transposed=direction == "backward")

    def note_write(self, reference: bool = False, cols=None) -> None:
        """The devices changed: drop the cached visible weights and IR-drop matrices.
        Every write method here calls it; call it after writing ``array`` directly, with
        ``reference=True`` after changing ``array.reference`` in place (reference offsets
        are static device properties: whether they are all zero is checked once per
        reference array, not per write).  ``cols`` (int64 indices): only these columns
        changed; when reads multiply the live weights, the forward line sums are kept
        and only those columns summed again (Σ_i |w_ij| depends on column j alone, and
        is added in the same order: bitwise the full recomputation)."""
        self._writes = getattr(self, "_writes", 0) + 1
        keep = w64 = None
        if cols is not None and not reference and self._read_cache is not None:
            keep = self._read_cache[1].get(False)
            w64 = self._read_cache[1].get("w64")
        self._read_cache = None
        if reference:
            self._ref_zero = None
        for cache in (*self.ir.values(), *self._tile_ir.values()):
            cache.note_update()
        if w64 is not None:      # float32 state: widen the written columns only
            w64.flags.writeable = True
            w64[:, cols] = self.array.w[:, cols]
            w64.flags.writeable = False
            self._cache()["w64"] = w64
        if keep is not None and self._read_matrix() is (self.array.w if w64 is None else w64):
            keep = keep.copy()
            keep[cols] = abs_column_sums(self._read_matrix(), cols, self.ctx.backend)
            self._cache()[False] = keep

    # ---- bookkeeping ---------------------------------------------------------------
    def __getstate__(self):
        """Pickled without the context (hardware, rng table): re-attach with :meth:`attach`."""
        state = {k: v for k, v in self.__dict__.items() if k != "ctx"}
        state["_read_cache"] = state["_ref_zero"] = None
        state.pop("_subs", None)            # rebuilt from the device state when needed
        state.pop("_writes", None)          # (counts writes for the tiles' sync only)
        if not state.get("_tile_ir"):
            state.pop("_tile_ir", None)     # a one-tile array pickles as before
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_tile_ir", {})
        self._subs = None

    def attach(self, ctx) -> None:
        """Bind a (restored) context after unpickling."""
        self.ctx = ctx

    def rng(self, use: str) -> np.random.Generator:
        """The array's random stream ``f"{layer}/{role}/{use}"``."""
        return self.ctx.rng(f"{self.layer}/{self.role}/{use}")

    @property
    def hw(self):
        return self.ctx.hw

    @property
    def shape(self) -> tuple:
        return self.array.shape

    def _cache(self) -> dict:
        """What reads derive from the devices (visible weights, line sums), valid until
        the next write.  Keyed on the identity of the state arrays too, so reassigning
        ``array.reference`` (a study's static offset) is seen; after changing array
        values in place outside this class, call :meth:`note_write`."""
        a = self.array
        key = (a.w, a.reference, a.write_noise)
        c = self._read_cache
        if c is None or any(u is not v for u, v in zip(c[0], key)):
            c = self._read_cache = (key, {})
        return c[1]

    def weights(self) -> np.ndarray:
        """Visible weights ``w + write noise − reference`` (M, N): a read-only copy,
        built once per state of the devices."""
        cache = self._cache()
        if "visible" not in cache:
            vis = self.array.visible_weights()
            vis.flags.writeable = False
            cache["visible"] = vis
        return cache["visible"]

    def _read_matrix(self) -> np.ndarray:
        """The matrix a read multiplies, valid until the next write: the live device
        weights when a read adds nothing to them (no reference offsets, no write noise;
        the common case, which saves an M×N copy per write), else :meth:`weights`.
        Reads are float64: float32 device state is widened (exactly) once per state."""
        a = self.array
        if a.cfg.write_noise_std <= 0:
            ref = a.reference
            if self._ref_zero is None or self._ref_zero[0] is not ref:
                self._ref_zero = (ref, not ref.any())
            if self._ref_zero[1]:
                if a.w.dtype == np.float64:
                    return a.w
                cache = self._cache()
                if "w64" not in cache:
                    w64 = a.w.astype(np.float64)
                    w64.flags.writeable = False
                    cache["w64"] = w64
                return cache["w64"]
        return self.weights()

    def _line_sums(self, transposed: bool) -> np.ndarray:
        """Σ|w| per driven line of the visible weights (read energy), cached with them."""
        cache = self._cache()
        if transposed not in cache:
            cache[transposed] = abs_line_sums(self._read_matrix(), transposed,
                                              self.ctx.backend)
        return cache[transposed]

    # ---- reads ---------------------------------------------------------------------
    def forward(self, x, *, phase: str = "forward") -> np.ndarray:
        """``y = W x`` for x (B, N) through the forward periphery; issues ``forward``."""
        y, st = self._mvm(x, False)
        self.hw.forward(self.layer, len(y) + st.bm_repeats, self.role, phase, **mvm_meta(st))
        return y

    def backward(self, d, *, phase: str = "backward") -> np.ndarray:
        """``g = Wᵀ d`` for d (B, M) through the backward periphery; issues ``backward``."""
        g, st = self._mvm(d, True)
        self.hw.backward(self.layer, len(g) + st.bm_repeats, self.role, phase, **mvm_meta(st))
        return g

    def blocks(self):
        """The ``(row slice, col slice)`` of each tile holding this array (the mapping's
        grid, :func:`hwsim.training.algorithms.tiles.tile_blocks`), or None on one tile
        (and in symbolic mode, which has no accelerator)."""
        return tiles.blocks_for(self.ctx, self.shape)

    def _mvm(self, v, transposed: bool):
        """(result, MVMStats) of the forward (``W v``) or transposed (``Wᵀ v``) read."""
        w = self._read_matrix()
        blocks = self.blocks()
        cfg = self.bwd_cfg if transposed else self.fwd_cfg
        rng = self.rng("backward" if transposed else "forward")
        direction = "backward" if transposed else "forward"
        if blocks is not None:
            return tiles.tiled_mvm(blocks, self._tile_matrix, v, cfg, rng,
                                   transposed=transposed, backend=self.ctx.backend,
                                   w_eff_of=lambda t, wt: self._tile_w_eff(t, wt, direction),
                                   line_sums_of=lambda t, wt: self._tile_line_sums(t, wt,
                                                                                   transposed))
        return mvm(w, v, cfg, rng, transposed=transposed, backend=self.ctx.backend,
                   w_eff=self._w_eff(w, direction), line_sums=self._line_sums(transposed))

    def _tile_matrix(self, t: int) -> np.ndarray:
        """Tile t's block of the read matrix (contiguous), cached until the next write
        (the tile's own weights when the update left them and reads see live weights)."""
        cache = self._cache()
        key = ("tile", t)
        if key not in cache:
            w = self._read_matrix()
            subs = self._subs
            if w is self.array.w and subs is not None and subs[0] is self.array and \
                    subs[2] == getattr(self, "_writes", 0):
                cache[key] = subs[1][t].w
            else:
                rs, cs = self.blocks()[t]
                cache[key] = np.ascontiguousarray(w[rs, cs])
        return cache[key]

    def _tile_line_sums(self, t: int, w, transposed: bool) -> np.ndarray:
        cache = self._cache()
        key = ("sums", transposed, t)
        if key not in cache:
            cache[key] = abs_line_sums(w, transposed, self.ctx.backend)
        return cache[key]

    def _tile_w_eff(self, t: int, w, direction: str):
        cfg = self.fwd_cfg if direction == "forward" else self.bwd_cfg
        if cfg.ir_drop <= 0:
            return None
        cache = self._tile_ir.get((direction, t))
        if cache is None:
            cache = self._tile_ir[(direction, t)] = IRDropCache.from_config(cfg)
        return cache.get(w, transposed=direction == "backward")

    def mvm_sum(self, weights: "AnalogWeights", v, transposed: bool):
        """(result, MVMStats) of one periphery pass over the summed arrays of ``weights``
        (their currents add on the shared lines), this array's periphery and stream;
        on several tiles, each tile sums its blocks and reads through its own periphery."""
        cfg = self.bwd_cfg if transposed else self.fwd_cfg
        rng = self.rng("backward" if transposed else "forward")
        total = weights._sum()
        blocks = self.blocks()
        if blocks is not None:
            return tiles.tiled_mvm(blocks, lambda t: np.ascontiguousarray(
                total[blocks[t][0], blocks[t][1]]), v, cfg, rng, transposed=transposed,
                backend=self.ctx.backend)
        return mvm(total, v, cfg, rng, transposed=transposed, backend=self.ctx.backend)

    def read_columns(self, cols, *, minus: "AnalogArray | None" = None,
                     phase: str = "transfer") -> np.ndarray:
        """Read columns ``cols`` (k indices) with one-hot inputs ``e_k`` → (k, M).

        The read goes through the forward periphery (DAC, noise, ADC), so it carries
        the read noise and quantization of a real column read (Gokmen 2021, TTv2).
        ``minus`` reads differentially against a reference array R of the same
        shape (currents subtracted before the ADC: ``v = (A − R) e_k``): one
        ``read_column`` op with ``minus`` = R's role, timed as one read of the pair.
        Columns on different columns of tiles are read by their own tiles: as many on
        each (a per-tile transfer schedule) in parallel, one op with ``span`` over all
        the tiles; else one op per column of tiles.
        """
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        n = self.shape[1]
        if cols.ndim != 1 or cols.size == 0 or cols.min() < 0 or cols.max() >= n:
            raise ValueError(f"column indices must be a non-empty list within 0..{n - 1}, "
                             f"got {cols.tolist()}")
        if minus is not None and (minus.layer, minus.hw) != (self.layer, self.hw):
            raise ValueError(f"a differential pair is two arrays of one layer, got "
                             f"'{self.layer}' and '{minus.layer}'")
        if minus is not None and minus.shape != self.shape:
            raise ValueError(f"differential read needs equal shapes, got {self.shape} "
                             f"and {minus.shape}")
        groups = self.column_groups(cols)
        if len(groups) == 1:
            return self._read_issue(cols, minus, phase)
        if len({g.size for g in groups}) == 1:
            # every column of tiles reads as many of its own columns, at once: one op on
            # all the tiles (``span``), n = reads per tile + the longest tile's repeats
            v, st = self._read(cols, minus)
            return self._issue_read(v, cols[groups[0]].size, st, cols, minus, phase, span=1)
        v = np.empty((cols.size, self.shape[0]))
        for sel in groups:            # each column of tiles reads its own columns
            v[sel] = self._read_issue(cols[sel], minus, phase)
        return v

    def column_blocks(self) -> list:
        """``[(first column, width), ...]`` of the columns of tiles (one entry on one tile)."""
        blocks = self.blocks()
        if blocks is None:
            return [(0, self.shape[1])]
        return sorted({(cs.start, cs.stop - cs.start) for _rs, cs in blocks})

    def column_groups(self, cols) -> list:
        """Positions in ``cols`` of the columns each column of tiles holds (non-empty)."""
        blocks = self.column_blocks()
        if len(blocks) == 1:
            return [slice(None)]
        groups = [np.flatnonzero((cols >= c0) & (cols < c0 + w)) for c0, w in blocks]
        return [g for g in groups if g.size]

    def _read_issue(self, cols, minus, phase):
        v, st = self._read(cols, minus)
        return self._issue_read(v, cols.size, st, cols, minus, phase)

    def _issue_read(self, v, k, st, cols, minus, phase, **span):
        reads = k + st.bm_repeats
        pair = {} if minus is None else {"minus": minus.role}
        self.hw.read_column(self.layer, reads, self.role, phase, col=int(cols[0]), **span,
                            **mvm_meta(st), **pair)
        return v

    def _read(self, cols, minus):
        """(v (k, M), MVMStats) of one-hot reads of ``cols``, differential against ``minus``;
        on several tiles, the tiles holding the columns read them (each its own periphery)."""
        blocks = self.blocks()
        if blocks is None:
            return self._read_block(cols, minus, slice(0, self.shape[0]),
                                    slice(0, self.shape[1]), self.rng("read"))
        v = np.empty((cols.size, self.shape[0]))
        stats, rng = [], self.rng("read")
        for rs, cs in blocks:
            sel = np.flatnonzero((cols >= cs.start) & (cols < cs.stop))
            if sel.size:
                y, st = self._read_block(cols[sel], minus, rs, cs, rng)
                v[sel, rs] = y
                stats.append(st)
        return v, tiles.combine(stats)

    def _read_block(self, cols, minus, rs, cs, rng):
        """One-hot reads of ``cols`` (inside ``cs``) on the tile holding block (rs, cs)."""
        whole = rs.start == 0 and cs.start == 0 and (rs.stop, cs.stop) == self.shape
        if self._columns_alone():
            # the other inputs are exact zeros: only the read columns reach the ADCs
            w = self._columns(cols)
            if minus is not None:
                w = w - minus._columns(cols)
            if not whole:
                w = w[rs]
            x = np.eye(cols.size)
        else:
            w = self._read_matrix()
            if minus is not None:
                w = w - minus._read_matrix()
            if not whole:
                w = w[rs, cs]
            x = np.zeros((cols.size, cs.stop - cs.start))
            x[np.arange(cols.size), cols - cs.start] = 1.0
        return mvm(w, x, self.fwd_cfg, rng, backend=self.ctx.backend)

    def _columns_alone(self) -> bool:
        """A one-hot read sees only its columns: no input noise on the zero inputs, no
        IR drop coupling the lines, no weight scaling by the whole array's max|W|."""
        c = self.fwd_cfg
        return c.is_perfect or (c.inp_noise == 0 and c.ir_drop == 0 and c.omega is None)

    def _columns(self, cols) -> np.ndarray:
        """Columns ``cols`` of the visible weights (M, k), a fresh array."""
        vis = self._cache().get("visible")
        return vis[:, cols] if vis is not None else self.array.visible_columns(cols)

    # ---- writes --------------------------------------------------------------------
    def pulsed_update(self, x, d, lr: float, *, phase: str = "update") -> UpdateStats:
        """``ΔW = −lr Σ_b d_b x_bᵀ`` with the tile's pulse trains; issues ``update``.

        x (B, N), d (B, M).  Stochastic trains or mean counts per
        ``tile.update.pulse_type``; ``scheme: serial_row`` issues ``serial_write``.
        """
        st = self._pulse_trains(x, d, lr)
        if st.scheme == "serial_row":
            self.hw.serial_write(self.layer, st.row_steps, self.role, phase,
                                 pulses=st.device_pulses,
                                 max_pulses=int(st.max_pulses_per_row.max(initial=0)))
        else:
            draws = st.pulse_slots * (st.rows + st.cols) \
                if st.pulse_type == "stochastic_compressed" else 0
            self.hw.update(self.layer, st.pulse_slots, self.role, phase,
                           pulses=st.device_pulses, row_slots=st.row_pulse_slots,
                           col_slots=st.col_pulse_slots, samples=st.samples, rng_draws=draws)
        return st

    def _pulse_trains(self, x, d, lr) -> UpdateStats:
        """The physics of :meth:`pulsed_update` (no op); on several tiles each tile plans
        its own trains (update management over its rows and columns)."""
        cfg = self.update_cfg
        blocks = self.blocks()
        if blocks is None or cfg.scheme == "serial_row" or cfg.pulse_type == "none_pulsed":
            # (a serial or ideal write has no per-line scaling: the split changes nothing)
            st = pulsed_update(self.array, x, d, lr, cfg, self.rng("update"), self.ctx.backend)
        else:
            subs = self._tile_devices(blocks)
            synced = self._subs[2] == getattr(self, "_writes", 0)
            st = tiles.tiled_update(self.array, subs, blocks, x, d, lr, cfg,
                                    self.rng("update"), self.ctx.backend, synced=synced)
        self.pulses += st.device_pulses
        self.note_write()
        if blocks is not None and self._subs is not None:
            self._subs[2] = self._writes      # the tiles hold the state this write left
        return st

    def _tile_devices(self, blocks) -> list:
        """Per-tile DeviceArrays of the blocks (static device parameters copied once per
        device state object); ``_subs = [array, tiles, writes when they were in sync]``.
        Writes to ``array`` from outside must call :meth:`note_write` (as for the caches)."""
        a = self.array
        if self._subs is None or self._subs[0] is not a:
            self._subs = [a, [tiles.tile_device(a, rs, cs) for rs, cs in blocks], -1]
        return self._subs[1]

    def apply_pulses(self, counts, *, cols=None, phase: str = "transfer") -> int:
        """``|n_ij|`` deterministic pulses (up where ``n_ij > 0``); returns the pulses.

        ``counts`` (M, N), or (M, k) for the columns ``cols`` only (zero elsewhere).

        Timing: the signed counts are driven in parallel as one pulse train of
        ``max|n|`` slots (row i driven in ``max_j |n_ij|`` slots, column j in
        ``max_i |n_ij|``), which is exact for a single column or row (Tiki-Taka
        transfers) and for coincidence-free writes; issues ``update``.
        """
        total = self.program(counts, cols)
        if total:
            slots, row_slots, col_slots = self._train_of(counts)
            self.hw.update(self.layer, slots, self.role, phase, pulses=total,
                           row_slots=row_slots, col_slots=col_slots, rng_draws=0)
        return total

    def program(self, counts, cols=None) -> int:
        """The physics of :meth:`apply_pulses` (no op): apply ``|n_ij|`` pulses, return them."""
        total = apply_pulses(self.array, counts, self.rng("write"), self.ctx.backend, cols=cols,
                             lumped_noise_threshold=self.update_cfg.lumped_noise_threshold)
        self.pulses += total
        self.note_write(cols=None if cols is None
                        else np.asarray(cols, dtype=np.int64) % self.shape[1])
        return total

    def program_chunks(self, counts, cols, bounds) -> list:
        """:meth:`program` of ``counts[:, b0:b1]`` on ``cols[b0:b1]`` for each ``(b0, b1)``
        of ``bounds`` in order (:func:`hwsim.physics.update.apply_pulses_chunks`: the
        same bits); returns each chunk's pulses.  No op: the caller issues them."""
        if not bounds:
            return []
        totals = apply_pulses_chunks(self.array, counts, cols, bounds, self.rng("write"),
                                     self.ctx.backend,
                                     lumped_noise_threshold=self.update_cfg.lumped_noise_threshold)
        self.pulses += sum(totals)
        touched = np.unique(np.concatenate([cols[b0:b1] for b0, b1 in bounds]))
        # the column sums of every written column from the final weights: what one
        # note_write per chunk leaves (a column's sum depends on that column alone)
        self.note_write(cols=touched % self.shape[1])
        self._writes += len(bounds) - 1
        return totals

    def issue_pulses(self, counts, total: int, phase: str = "transfer") -> None:
        """The ``update`` op :meth:`apply_pulses` issues for a write of ``total`` pulses."""
        if total:
            slots, row_slots, col_slots = self._train_of(counts)
            self.hw.update(self.layer, slots, self.role, phase, pulses=total,
                           row_slots=row_slots, col_slots=col_slots, rng_draws=0)

    @staticmethod
    def _train_of(counts) -> tuple[int, int, int]:
        """(slots, row_slots, col_slots) of one parallel train driving ``counts``."""
        mag = np.abs(counts)
        rows = mag.max(axis=1)
        return int(rows.max()), int(rows.sum()), int(mag.max(axis=0).sum())

    def end_of_batch(self) -> None:
        """Decay and diffusion of one mini-batch (PHYSICS.md §1)."""
        a = self.array
        if a.tau_life is not None or a.diffusion_rate is not None:
            a.end_of_batch(self.rng("drift"))
            self.note_write()


class AnalogWeights:
    """WeightBackend over arrays ``[(array, γ), ...]``: MVMs on ``W̄ = α Σ γ_r W_r``.

    ``AnalogWeights([(W, 1.0)])`` for analog SGD; ``[(C, 1.0), (A, γ)]`` for
    Tiki-Taka with residual learning (arrays with γ = 0 are not read).  ``scale`` α
    is a digital gain on the ADC outputs (weight scaling): the network sees
    ``α·W_device``, so weights beyond the device bounds ±w_max stay representable.
    """

    def __init__(self, arrays, scale: float = 1.0):
        self.scale = float(scale)
        if not self.scale > 0:
            raise ValueError(f"weight scale must be > 0, got {scale}")
        self.arrays = [(a, float(g)) for a, g in arrays if float(g) != 0.0]
        if not self.arrays:
            raise ValueError("AnalogWeights needs at least one array with a nonzero γ")
        self.out_features, self.in_features = self.arrays[0][0].shape
        for a, _ in self.arrays:
            if a.shape != (self.out_features, self.in_features):
                raise ValueError(f"arrays of one layer must share a shape, got {a.shape}")

    def _sum(self) -> np.ndarray:
        w = None
        for a, g in self.arrays:
            v = a.weights()
            w = v * g if w is None else w + g * v
        return w

    def _issue(self, kind, n, st, phase):
        for a, _ in self.arrays[1:]:
            getattr(a.hw, kind)(a.layer, n, a.role, phase, **mvm_meta(st))

    def forward(self, x) -> np.ndarray:
        return self._read(x, False)

    def backward(self, d) -> np.ndarray:
        return self._read(d, True)

    def _read(self, v, transposed: bool) -> np.ndarray:
        """``W̄ v`` (or ``W̄ᵀ v``): one array's own read, or one periphery pass over the
        summed arrays (their currents add on the shared lines) with an op per array."""
        head = self.arrays[0][0]
        if len(self.arrays) == 1 and self.arrays[0][1] == 1.0:
            return self._gain(head.backward(v) if transposed else head.forward(v))
        kind = "backward" if transposed else "forward"
        y, st = head.mvm_sum(self, v, transposed)
        n = len(y) + st.bm_repeats
        getattr(head.hw, kind)(head.layer, n, head.role, kind, **mvm_meta(st))
        self._issue(kind, n, st, kind)
        return self._gain(y)

    def _gain(self, y):
        return y * self.scale if self.scale != 1.0 else y

    def weights(self) -> np.ndarray:
        return self._gain(self._sum())
