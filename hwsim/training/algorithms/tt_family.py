"""The Tiki-Taka family as one transfer engine parameterized by the variant (PHYSICS.md §4).

Per analog layer: a fast gradient array A, a weight array C, optionally a reference
array R and a digital buffer H (M × N).  Forward/backward run on ``W̄ = C + γA``
(γ = 0 unless residual learning).  Per mini-batch:

1. **gradient** — pulsed update of A with ``ΔA = −η_A (c_out ⊙ d)(c_in ⊙ x)ᵀ``
   (choppers ``c = ±1``; all +1 without chopper).  Fast-LR auto scale:
   ``η_A = fast_lr·BL_max·ε_A/(x̂_m·d̂_m)`` with running means x̂_m, d̂_m of the
   per-sample maxima |x|, |d| (Rasch et al., Nat. Commun. 15:7133, 2024).
2. **read** — every ``transfer_every`` vector updates, ``n_reads`` columns k of A are
   read with one-hot inputs through the forward periphery: ``v = (A − R) e_k``
   (differential against R for TTv2/c-TTv2, plain for v1 and AGAD).  R is programmed
   to A's symmetry point (``ref_target: zero``: to 0) plus σ_r ξ (``ref_std``); the
   static offsets ``ref_offsets`` of A and R are not compensated.
3. **transfer**
   * v1 (Gokmen & Haensch, Front. Neurosci. 14:103, 2020): pulsed update of C with
     ``ΔC = η_t·v e_kᵀ`` (η_t = transfer_lr);
   * buffered (TTv2, Gokmen, Front. AI 4:699148, 2021): ``H[:,k] += s·c_in_k c_out ⊙ v``
     (AGAD: ``s·c_in_k c_out ⊙ (v − p[:,k])``), ``s = transfer_lr·η·N·T/(G·ε_A)`` with
     G = auto_granularity (G = 0: ``s = transfer_lr·η/ε_A``).  So with transfer_lr·η = 1
     an A entry one state ε_A away from its reference fills H in G vector updates.
     Elements with ``|H| ≥ 1`` send ``n = clip(trunc(H), ±BL_t)`` pulses to C, then
     ``H ← momentum·H`` on those elements (forget buffer).
4. **choppers** (c-TTv2/AGAD): ``c_in_k`` flips after its read with probability
   p_in (random) or every ``max(ceil(1/p_in), 2)`` reads of column k (regular);
   ``c_out`` flips after a full sweep with p_out.  Every flip is a ``flip`` op.
   ``chop_per_sample``: on a layer of V vectors per sample (per-token linear, conv
   patches) p_in, p_out ÷ V, so the chopper period is as many samples as on a dense
   layer of the same width (else V times fewer: the graph networks' failure, issue 18).
5. **AGAD** (Rasch et al. 2024): running mean ``m ← (1−ρ)m + ρv``,
   ``ρ = min(tail_weightening/n_s, 1)``, reference ``p ← m`` at each flip of c_in_k;
   no writes to C during the first n_s sweeps (n_s = reads per chopper half-period).

Counts in pulses scale with the device (``reference_states`` S_ref, default 1200): a
pulse moves ε = range/S, so on a device of S > S_ref states (the idealized preset's
12 000) n_reads becomes round(n_reads·S/S_ref) (at most the tile width), fast_lr
(auto_scale) min(fast_lr·S/S_ref, max(fast_lr, 1)) and the chopper probabilities per
read and per sweep are divided by the same read factor (the same chopper period in
vector updates), so A and C move as many weight units per update as on an S_ref-state
device (:func:`hwsim.training.algorithms.tt_checks.scaled_counts`).  Devices of at most
S_ref states — every noisy preset — are unchanged.

By default the transfers due in a mini-batch run after its pulsed update (one kernel
call per batch); ``interleave: true`` splits the batch at every transfer point
(exact ordering, more kernel calls).  On one column of tiles the buffered variants run
the digital chain of all of a batch's transfers (steps 3–5) in one compiled call
(:mod:`hwsim.training.transfer_chain`) and C's writes in one pass, issuing the same
ops in the same order as transfer by transfer (``TransferEngine.BATCHED``).

The variants differ by class attributes of their algorithm (:class:`TransferAlgorithm`):
``BUFFERED`` (H instead of direct C updates), ``REFERENCED`` (array R), ``CHOPPED``
(choppers), ``RUNNING_REFERENCE`` (AGAD's m and p).  In symbolic mode the buffer and
AGAD arithmetic, the random flips and the C writes come from the statistics model.
"""
from __future__ import annotations

import math

import numpy as np

from hwsim.physics.quantize import check_backend, row_abs_max
from hwsim.training.algorithms.analog import AnalogWeights
from hwsim.training.algorithms.symbolic import Expect
from hwsim.training.algorithms.tt_checks import check_transfer_settings, scaled_counts
from hwsim.training import transfer_chain
from hwsim.training.digital_accumulator import transfer_accumulate


class TransferEngine:
    """A, C, (R, H, choppers, AGAD mean/reference) of one layer and its transfer cycle."""

    #: buffered transfers of one column of tiles run their digital chain for the whole
    #: mini-batch in one compiled call (:meth:`_batched_transfers`); False: transfer by
    #: transfer (the same numbers and ops, bit for bit; tests compare the two)
    BATCHED = True

    def __init__(self, algo, name, shape, init_w):
        self.algo, self.name = algo, name
        p, ctx = algo.params, algo.ctx
        m, n = shape
        self.p = p
        self.C = algo.new_array(name, "C", shape, init_w=init_w / p.weight_scale)
        self.A = algo.new_array(name, "A", shape)
        self.R = None
        if algo.REFERENCED:
            self.R = algo.new_array(name, "R", shape)
            if not algo.symbolic:
                if p.ref_target == "zero":
                    sp = np.zeros(shape)
                else:
                    sp = self.A.array.symmetry_point()
                    sp = np.where(np.isfinite(sp), sp, 0.0)
                # visible R = visible A at its symmetry point (or at 0) + σ_r ξ (reference
                # error); the static offsets of ref_offsets are not calibrated away
                err = p.ref_std * ctx.rng(f"{name}/R/offset").standard_normal(shape)
                ref_a = self.A.array.reference - getattr(self.A, "static_offset", 0.0)
                ref_r = self.R.array.reference - getattr(self.R, "static_offset", 0.0)
                target = sp - ref_a + err + ref_r
                self.R.array.set_weights(target, self.R.rng("write"))
        self.chopped = algo.CHOPPED
        self.buffered = algo.BUFFERED
        self.H = np.zeros(shape) if self.buffered and not algo.symbolic else None
        self.c_in = np.ones(n)
        self.c_out = np.ones(m)
        self.reads_col = np.zeros(n, np.int64)      # reads of each column since its last flip
        self.k = 0                                   # next column to read
        blocks = self.A.column_blocks()
        if len(blocks) > 1:                          # every column of tiles its own pointer
            self.tile_cols = blocks                  # [(first column, width)]
            self.k_tiles = np.zeros(len(blocks), np.int64)
        width = min(w for _c0, w in blocks) if len(blocks) > 1 else n
        n_states = None if algo.symbolic else self.A.array.n_states
        self.n_reads, self.fast_lr_pulses = scaled_counts(p, n_states, width)
        self.sweeps = 0
        self.pending = 0                             # vector updates since the last transfer
        self.x_hat = self.d_hat = None
        self.agad = algo.RUNNING_REFERENCE
        if self.agad and not algo.symbolic:
            self.m_mean = np.zeros(shape)
            self.p_ref = np.zeros(shape)
        # choppers per read and per sweep: f× the reads, 1/f the probability (same period
        # in vector updates)
        self.chop_vectors = 1                        # V of chop_per_sample (set_chop_vectors)
        self._set_chop_probs(1)
        self.stats = {"A_pulses": 0, "C_pulses": 0, "reads": 0, "flips": 0, "transfers": 0}
        self.backend = AnalogWeights([(self.C, 1.0), (self.A, p.gamma)], scale=p.weight_scale)

    def _set_chop_probs(self, vectors: int) -> None:
        """p_in, p_out per read (÷ the read factor f, ÷ V of chop_per_sample) and the
        half-period in reads."""
        p = self.p
        rf = self.n_reads / p.n_reads * vectors
        self.in_chop_prob = getattr(p, "in_chop_prob", 0.0) / rf
        self.out_chop_prob = getattr(p, "out_chop_prob", 0.0) / rf
        self.half_period = max(math.ceil(1.0 / self.in_chop_prob), 2) if self.chopped and \
            self.in_chop_prob > 0 else 2

    def set_chop_vectors(self, vectors: int) -> None:
        """``chop_per_sample``: the layer applies V = ``vectors`` vectors per sample (T
        tokens, P patches), so each column is read V times as often per sample as on a
        one-vector layer of its width; p_in, p_out ÷ V keep the chopper period (and AGAD's
        n_s, warm-up and ρ) the same number of samples.  Before the first update only."""
        if vectors != self.chop_vectors:
            self.chop_vectors = int(vectors)
            self._set_chop_probs(self.chop_vectors)

    def __setstate__(self, state):
        """A checkpoint from before the counts were scaled with the device: as given."""
        state.setdefault("n_reads", state["p"].n_reads)
        state.setdefault("fast_lr_pulses", state["p"].fast_lr)
        state.setdefault("in_chop_prob", getattr(state["p"], "in_chop_prob", 0.0))
        state.setdefault("out_chop_prob", getattr(state["p"], "out_chop_prob", 0.0))
        state.setdefault("chop_vectors", 1)
        self.__dict__.update(state)

    # ---- 1. gradient onto A --------------------------------------------------------
    def fast_lr(self, x, d) -> float:
        p = self.p
        if not p.auto_scale or self.algo.symbolic:
            return p.fast_lr
        # per-sample max|·| in one compiled pass each (max is exact in any order)
        ext = check_backend(self.algo.ctx.backend)
        xm = float(row_abs_max(np.ascontiguousarray(x, dtype=np.float64), ext).mean())
        dm = float(row_abs_max(np.ascontiguousarray(d, dtype=np.float64), ext).mean())
        if self.x_hat is None:
            self.x_hat, self.d_hat = xm, dm
        else:
            mu = p.auto_momentum
            self.x_hat = mu * self.x_hat + (1 - mu) * xm
            self.d_hat = mu * self.d_hat + (1 - mu) * dm
        denom = self.x_hat * self.d_hat
        if denom <= 0:
            return 0.0
        return self.fast_lr_pulses * self.A.update_cfg.bl_max * self.A.granularity / denom

    def step(self, x, d) -> None:
        """One mini-batch: x (B, N), d (B, M) (conv: B·P patch vectors)."""
        T = self.p.transfer_every
        if not self.p.interleave:
            self._gradient(x, d)
            self.pending += len(x)
            self._transfers(self.pending // T)
            self.pending %= T
        else:
            i = 0
            while i < len(x):
                take = min(len(x) - i, T - self.pending)
                self._gradient(x[i:i + take], d[i:i + take])
                self.pending += take
                i += take
                if self.pending == T:
                    self.pending = 0
                    self._transfers(1)
        for arr in (self.A, self.C):
            arr.end_of_batch()

    def _gradient(self, x, d):
        lr_a = self.fast_lr(x, d)
        xs = x * self.c_in if self.chopped else x
        ds = d * self.c_out if self.chopped else d
        self.stats["A_pulses"] += self.A.pulsed_update(xs, ds, lr_a).device_pulses

    # ---- 2.–5. reads, transfer, choppers ------------------------------------------
    def _transfers(self, count: int) -> None:
        if hasattr(self, "k_tiles"):
            self._tile_transfers(count)
            return
        n = self.A.shape[1]
        cols = (self.k + np.arange(count * self.n_reads)) % n
        self.stats["transfers"] += count
        if self.BATCHED and self.buffered and not self.algo.symbolic and len(cols):
            self._batched_transfers(cols)
            return
        for start in range(0, len(cols), n):        # chunks of distinct columns
            chunk = cols[start:start + n]
            self._read_and_transfer(chunk)

    def _tile_transfers(self, count: int) -> None:
        """A layer on several columns of tiles: at every transfer each column of tiles
        reads ``n_reads`` of its own columns from its own pointer (in parallel, as the
        tiles' own transfer schedules), so a column of a ``w``-wide tile is read every
        ``w·T/n_reads`` vector updates.  Sweeps (output chopper, AGAD warm-up) are the
        first (widest) tile's."""
        steps = count * self.n_reads
        self.stats["transfers"] += count
        chunk = min(w for _c0, w in self.tile_cols)       # distinct columns per tile
        w0 = self.tile_cols[0][1]
        for start in range(0, steps, chunk):
            take = min(chunk, steps - start)
            cols = np.concatenate([c0 + (k + start + np.arange(take)) % w
                                   for (c0, w), k in zip(self.tile_cols, self.k_tiles)])
            self._read_and_transfer(cols, advance=False)
            before = (int(self.k_tiles[0]) + start) // w0
            if (int(self.k_tiles[0]) + start + take) // w0 > before:
                self._end_sweep()
        for j, (_c0, w) in enumerate(self.tile_cols):
            self.k_tiles[j] = (self.k_tiles[j] + steps) % w
        self.k = int(self.k_tiles[0])

    def _read_and_transfer(self, cols, advance: bool = True) -> None:
        p, hw, name = self.p, self.algo.hw, self.name
        m, n = self.A.shape
        v = self.A.read_columns(cols, minus=self.R)          # (k, M)
        self.stats["reads"] += len(cols)
        if not self.buffered:                                 # Tiki-Taka v1
            if self.algo.symbolic:
                e = Expect.one_hot(len(cols), n)
            else:
                e = np.zeros((len(cols), n))
                e[np.arange(len(cols)), cols] = 1.0
            self.stats["C_pulses"] += self.C.pulsed_update(e, -v, p.transfer_lr / p.weight_scale,
                                                           phase="transfer").device_pulses
        else:
            vt = v
            if self.agad:
                if not self.algo.symbolic:
                    vt = v - self.p_ref[:, cols].T
                    rho = min(p.tail_weightening / self.half_period, 1.0)
                    self.m_mean[:, cols] = (1 - rho) * self.m_mean[:, cols] + rho * v.T
                # v − p: one add; m ← (1−ρ)m + ρv: a multiply and a multiply-accumulate
                hw.digital("add", v.size, layer=name, phase="transfer")
                hw.digital("mult", v.size, layer=name, phase="transfer")
                hw.digital("mac", v.size, layer=name, phase="transfer")
            enabled = not (self.agad and self.sweeps < self.half_period)   # AGAD warm-up
            if self.algo.symbolic:
                counts = self.algo.ctx.model.threshold(m, len(cols))
                writes = counts.writes if enabled else 0
            else:
                counts, writes = self._accumulate(cols, vt, enabled)
            hw.accumulate(name, v.size, "H", "transfer", compares=v.size, writes=writes)
            if writes:
                self.stats["C_pulses"] += self.C.apply_pulses(counts, cols=cols)
        self._chop(cols)
        if not advance:
            return
        # cols run on from the pointer k (modulo n, at most n of them): the sweep ends
        # when they reach column n − 1, also inside a chunk that wraps round to 0
        wrapped = self.k + len(cols) >= n
        self.k = int((cols[-1] + 1) % n)
        if wrapped:
            self._end_sweep()

    def _batched_transfers(self, cols) -> None:
        """The transfers of ``cols`` (chunks of distinct columns, as
        :meth:`_read_and_transfer` takes them) in three passes: the reads of A (which
        no transfer changes), the digital chain of all chunks in one compiled call
        (:mod:`hwsim.training.transfer_chain`: H, AGAD's m and p, thresholds, choppers,
        sweeps), the C writes of the chunks in order (:meth:`AnalogArray.program_chunks`),
        then every chunk's ops, in the order the per-transfer code issued them.  Every stream (A's reads, the chopper, C's writes) is drawn
        in the same order, so the numbers and the ops are those of the per-transfer
        code, bit for bit."""
        p, hw, name, A, R = self.p, self.algo.hw, self.name, self.A, self.R
        m, n = A.shape
        bounds = list(range(0, len(cols), n)) + [len(cols)]
        reads = [A._read(cols[b0:b1], R) for b0, b1 in zip(bounds[:-1], bounds[1:])]
        v = np.concatenate([r[0] for r in reads]) if len(reads) > 1 else reads[0][0]
        in_mode = transfer_chain.IN_NONE
        if self.chopped and self.in_chop_prob > 0:
            in_mode = transfer_chain.IN_RANDOM if p.in_chop_random else transfer_chain.IN_REGULAR
        out_on = self.chopped and self.out_chop_prob > 0
        bounds = np.asarray(bounds, np.int64)
        need = transfer_chain.uniforms_needed(cols, bounds, n, m, in_mode, out_on)
        u = self.algo.ctx.rng(f"{name}/chopper").random(need) if need else None
        agad = self.agad
        ch = transfer_chain.chain(
            self.H, v, cols, bounds, scale=self._scale(None), c_in=self.c_in,
            c_out=self.c_out, chopped=self.chopped, momentum=p.momentum,
            max_pulses=p.max_pulses, agad=agad, m_mean=getattr(self, "m_mean", None),
            p_ref=getattr(self, "p_ref", None),
            rho=min(p.tail_weightening / self.half_period, 1.0) if agad else 0.0,
            sweeps=self.sweeps, half_period=self.half_period, in_mode=in_mode,
            p_in=self.in_chop_prob, reads_col=self.reads_col, out_on=out_on,
            p_out=self.out_chop_prob, u=u, backend=self.algo.ctx.backend)
        stats = self.stats
        spans = list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
        written = [s for s, w in zip(spans, ch.writes.tolist()) if w]
        pulses = dict(zip(written, self.C.program_chunks(ch.counts, cols, written)))
        for c, (b0, b1) in enumerate(spans):
            cc = cols[b0:b1]
            size = cc.size * m
            A._issue_read(None, cc.size, reads[c][1], cc, R, "transfer")
            stats["reads"] += cc.size
            if agad:
                hw.digital("add", size, layer=name, phase="transfer")
                hw.digital("mult", size, layer=name, phase="transfer")
                hw.digital("mac", size, layer=name, phase="transfer")
            writes = int(ch.writes[c])
            hw.accumulate(name, size, "H", "transfer", compares=size, writes=writes)
            if writes:
                total = pulses[(b0, b1)]
                stats["C_pulses"] += total
                self.C.issue_pulses(ch.counts[:, b0:b1], total)
            if in_mode != transfer_chain.IN_NONE:
                flip = cc[ch.flipped[b0:b1]]
                if flip.size:
                    stats["flips"] += int(flip.size)
                    for sel in A.column_groups(flip):       # each tile its own lines
                        hw.flip(name, int(flip[sel].size), "A", "transfer",
                                col=int(flip[sel][0]))
            if ch.out_flips[c]:
                stats["flips"] += int(ch.out_flips[c])
                hw.flip(name, int(ch.out_flips[c]), "A", "transfer", side="out")
        self.sweeps = ch.sweeps
        self.k = int((cols[-1] + 1) % n)

    def _accumulate(self, cols, vt, enabled):
        """H ← H + s·v for the read columns; (counts (M, k), writes).  On several columns
        of tiles each tile's buffer has its own scale (its own width, :meth:`_scale`):
        one call per distinct width (the columns are distinct: the order is free)."""
        p = self.p
        widths = None
        if p.auto_granularity > 0 and hasattr(self, "tile_cols"):
            widths = np.zeros(len(cols), np.int64)      # the width of each column's tile
            for c0, w in self.tile_cols:
                widths[(cols >= c0) & (cols < c0 + w)] = w
        if widths is None or np.all(widths == widths[0]):
            return transfer_accumulate(
                self.H, cols, vt, self._scale(None if widths is None else int(widths[0])),
                self.c_in if self.chopped else None, self.c_out if self.chopped else None,
                p.momentum, p.max_pulses, enabled=enabled, backend=self.algo.ctx.backend)
        counts = np.zeros((self.A.shape[0], len(cols)), np.int64)
        writes = 0
        for width in np.unique(widths):                  # one call per tile width
            sel = np.flatnonzero(widths == width)
            c, wr = transfer_accumulate(
                self.H, cols[sel], vt[sel], self._scale(int(width)),
                self.c_in if self.chopped else None, self.c_out if self.chopped else None,
                p.momentum, p.max_pulses, enabled=enabled, backend=self.algo.ctx.backend)
            counts[:, sel] = c
            writes += wr
        return counts, writes

    def _scale(self, n: int | None = None) -> float:
        """The transfer scale s; ``n``: the columns one pointer sweeps (the tile's width
        on several columns of tiles, else the layer's)."""
        p = self.p
        n = self.A.shape[1] if n is None else n
        s = p.transfer_lr * self.algo.lr / (self.A.granularity * p.weight_scale)
        if p.auto_granularity > 0:
            s *= n * p.transfer_every / (self.n_reads * p.auto_granularity)
        return s

    def _chop(self, cols) -> None:
        p = self.p
        p_in = self.in_chop_prob
        if not self.chopped or p_in <= 0:
            return
        self.reads_col[cols] += 1
        flip = None
        if p.in_chop_random and self.algo.symbolic:            # expected flips, carried
            count = self.algo.ctx.model.flips((self.name, "in"), len(cols), p_in)
        else:
            if p.in_chop_random:
                rng = self.algo.ctx.rng(f"{self.name}/chopper")
                flip = cols[rng.random(len(cols)) < p_in]
            else:
                flip = cols[self.reads_col[cols] >= self.half_period]
            count = int(flip.size)
        if not count:
            return
        if flip is not None:
            self.c_in[flip] *= -1
            self.reads_col[flip] = 0
            if self.agad and not self.algo.symbolic:
                self.p_ref[:, flip] = self.m_mean[:, flip]
        self.stats["flips"] += count
        if flip is None:                                        # expected flips: shared out
            self.algo.hw.flip(self.name, count, "A", "transfer")
            return
        for sel in self.A.column_groups(flip):                  # each tile its own lines
            self.algo.hw.flip(self.name, int(flip[sel].size), "A", "transfer",
                              col=int(flip[sel][0]))

    def _end_sweep(self) -> None:
        self.sweeps += 1
        p_out = self.out_chop_prob
        if not self.chopped or p_out <= 0:
            return
        if self.algo.symbolic:                                  # expected flips, carried
            count = self.algo.ctx.model.flips((self.name, "out"), self.c_out.size, p_out)
        else:
            rng = self.algo.ctx.rng(f"{self.name}/chopper")
            flip = rng.random(self.c_out.size) < p_out
            self.c_out[flip] *= -1
            count = int(flip.sum())
        if count:
            self.stats["flips"] += count
            self.algo.hw.flip(self.name, count, "A", "transfer", side="out")

    def arrays(self):
        return [a for a in (self.A, self.C, self.R) if a is not None]


class TransferAlgorithm:
    """Mixin for the Algorithm classes of the family; the variant is its class attributes."""

    BUFFERED = False            # H integrates the reads (TTv2 and later); else v1 ΔC = η_t v e_kᵀ
    REFERENCED = False          # reads are differential against a reference array R
    CHOPPED = False             # input/output choppers c_in, c_out
    RUNNING_REFERENCE = False   # AGAD: running mean m and reference p replace R

    @classmethod
    def check_settings(cls, params, cfg, acc, device) -> None:
        check_transfer_settings(cls, params, cfg, acc, device)

    def _init_engines(self):
        self.engines: dict = {}

    def make_backend(self, name, out_features, in_features, init_w):
        if not hasattr(self, "engines"):
            self._init_engines()
        eng = TransferEngine(self, name, (out_features, in_features), init_w)
        self.engines[name] = eng
        self.backends[name] = eng.backend
        return eng.backend

    def update(self, network, batch_size):
        per_sample = getattr(self.params, "chop_per_sample", False)
        for layer in network.analog_layers():
            eng = self.engines[layer.name]
            if per_sample:
                eng.set_chop_vectors(getattr(layer, "vectors_per_sample", 1))
            eng.step(layer.last_input, layer.last_delta)

    def stats(self):
        return {name: dict(e.stats) for name, e in self.engines.items()}

    def state(self):
        return {"backends": self.backends, "engines": self.engines}

    def load_state(self, state):
        self.backends, self.engines = state["backends"], state["engines"]
        for e in self.engines.values():
            e.algo = self
            for a in e.arrays():
                a.attach(self.ctx)

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "ctx"}
