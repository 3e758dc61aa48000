"""A layer array split over tiles in the numbers: every tile its own periphery.

A layer of M × N weights on tiles of ``rows × cols`` occupies the grid of
:func:`hwsim.elaborate.mapping.map_layers` (``ceil(M/rows) × ceil(N/cols)`` blocks,
row-block major).  The timing and energy charge every tile; so do the numbers here
(aihwkit's tile splitting does the same, Rasch et al., Nat. Commun. 15:7133, 2024):

* **reads** (:func:`tiled_mvm`) — each tile converts *its* inputs: noise management
  ``s = inp_bound / max|x_block|`` over the inputs it receives, its own DAC, weight
  read noise and IR drop over its own lines, its own ADC range and saturation, its own
  bound-management loop and weight scaling ω (max|W| of its block).  The outputs of
  the tiles of one row of tiles (forward; one column of tiles, transposed) are added
  digitally in block order — the ``partial_sum`` digital ops the Hardware already
  charges.
* **updates** (:func:`tiled_update`) — each tile's pulse trains are planned from its
  own rows and columns (``x_m``, ``d_m``, BL and update management, PHYSICS.md §2);
  the device state stays one M × N :class:`~hwsim.physics.device_array.DeviceArray`,
  each tile updating a contiguous copy of its block that is written back.

Statistics of a layer op (the op schema's per-layer values): conversions, saturations,
``sum_gv2``, pulses and line slots are summed over the tiles; ``bm_repeats`` is the
largest tile's (the tiles repeat in parallel; the op's ``n`` is ``B + bm_repeats``,
every tile charged it), and a pulsed update's slots are the slowest tile's trains
(:func:`combine_updates`).  All tiles draw from the array's one stream, in tile order.

A layer on one tile takes none of these paths: its numbers are the single-array
read and update, bit for bit.
"""
from __future__ import annotations

import math

import numpy as np

from hwsim.elaborate.mapping import map_layers
from hwsim.physics.device_array import DeviceArray
from hwsim.physics.periphery import MVMStats, mvm
from hwsim.physics.update import UpdateStats, pulsed_update

_GRIDS: dict = {}


def tile_blocks(shape, tile_rows: int, tile_cols: int) -> tuple:
    """``((row slice, col slice), ...)`` of the tiles holding an M × N array, in the
    order :func:`~hwsim.elaborate.mapping.map_layers` places them (one declaration of
    the placement: this asks it)."""
    m, n = int(shape[0]), int(shape[1])
    key = (m, n, int(tile_rows), int(tile_cols))
    hit = _GRIDS.get(key)
    if hit is None:
        count = math.ceil(m / tile_rows) * math.ceil(n / tile_cols)
        slots = map_layers([("array", m, n)], ("W",), tile_rows, tile_cols, count)["array"].tiles("W")
        hit = _GRIDS[key] = tuple((slice(s.row0, s.row0 + s.rows), slice(s.col0, s.col0 + s.cols))
                                  for s in slots)
    return hit


def blocks_for(ctx, shape):
    """:func:`tile_blocks` of an array of ``shape`` on the tiles of ``ctx.accelerator`` (in
    symbolic mode, which has no accelerator: ``ctx.tile_shape``, the (rows, cols) the
    trace is generated for), or None when it fits one tile or no tile is known."""
    tile = getattr(getattr(ctx, "accelerator", None), "tile", None)
    rows, cols = getattr(tile, "rows", None), getattr(tile, "cols", None)
    if tile is None and getattr(ctx, "tile_shape", None) is not None:
        rows, cols = ctx.tile_shape
    if rows is None or cols is None or (shape[0] <= rows and shape[1] <= cols):
        return None
    return tile_blocks(shape, rows, cols)


def combine(stats) -> MVMStats:
    """The layer's statistics of one read over its tiles (see the module docstring)."""
    total = MVMStats()
    repeats = 0
    for st in stats:
        total = total + st
        repeats = max(repeats, st.bm_repeats)
    return total._replace(bm_repeats=repeats)


def tiled_mvm(blocks, w_of, v, cfg, rng, *, transposed: bool, backend: str,
              w_eff_of=None, line_sums_of=None):
    """(result, layer MVMStats) of a read of the tiles ``blocks``.

    ``w_of(t)``: tile t's matrix (its block); ``w_eff_of(t, w)`` / ``line_sums_of(t, w)``
    its IR-drop matrix and line sums (or None).  Forward: v (B, N) → (B, M), tile
    (rs, cs) reads ``v[:, cs]`` into outputs ``rs``; transposed: v (B, M) → (B, N),
    it reads ``v[:, rs]`` into ``cs``.  Partial sums add in tile order."""
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 1:
        v = v[None, :]
    m = max(b[0].stop for b in blocks)
    n = max(b[1].stop for b in blocks)
    out = np.zeros((v.shape[0], n if transposed else m))
    filled = np.zeros(n if transposed else m, bool)
    stats = []
    for t, (rs, cs) in enumerate(blocks):
        src, dst = (rs, cs) if transposed else (cs, rs)
        w = w_of(t)
        y, st = mvm(w, v[:, src], cfg, rng, transposed=transposed, backend=backend,
                    w_eff=None if w_eff_of is None else w_eff_of(t, w),
                    line_sums=None if line_sums_of is None else line_sums_of(t, w))
        if filled[dst.start]:
            out[:, dst] += y            # the digital partial sum
        else:
            out[:, dst] = y
            filled[dst] = True
        stats.append(st)
    return out, combine(stats)


# ---- updates ----------------------------------------------------------------------

def _mutable(array: DeviceArray) -> tuple:
    """The per-device state an update changes: the weights, the write noise when it is
    drawn at all, the pulse counter when there is one."""
    names = ["w"]
    if array.cfg.write_noise_std > 0:
        names.append("write_noise")
    if array.pulse_count is not None:
        names.append("pulse_count")
    return tuple(names)


def tile_device(array: DeviceArray, rs: slice, cs: slice) -> DeviceArray:
    """A DeviceArray of the block (rs, cs) of ``array``: contiguous copies of its
    per-device state (scalars shared).  :func:`write_back` returns the mutable state."""
    sub = object.__new__(DeviceArray)
    for k, val in array.__dict__.items():
        if isinstance(val, np.ndarray) and val.shape == array.shape:
            val = np.ascontiguousarray(val[rs, cs])
        setattr(sub, k, val)
    sub.shape = (rs.stop - rs.start, cs.stop - cs.start)
    return sub


def load_state(sub: DeviceArray, array: DeviceArray, rs: slice, cs: slice) -> None:
    """Copy the block's current mutable state (weights, write noise, counter) into ``sub``."""
    for k in _mutable(array):
        np.copyto(getattr(sub, k), getattr(array, k)[rs, cs])


def write_back(sub: DeviceArray, array: DeviceArray, rs: slice, cs: slice) -> None:
    """Copy ``sub``'s mutable state back into its block of ``array``."""
    for k in _mutable(array):
        getattr(array, k)[rs, cs] = getattr(sub, k)


def tiled_update(array: DeviceArray, subs, blocks, x, d, lr, cfg, rng, backend, *,
                 synced: bool = False) -> UpdateStats:
    """The pulsed update ``ΔW = −lr Σ_b d_b x_bᵀ`` with each tile's own trains;
    ``subs``: the :func:`tile_device` of every block (kept by the caller); ``synced``:
    they already hold the array's current state (nothing wrote it since their last
    update), so it is not copied in again."""
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    if x.ndim == 1:
        x, d = x[None, :], d[None, :]
    parts = []
    for sub, (rs, cs) in zip(subs, blocks):
        if not synced:
            load_state(sub, array, rs, cs)
        parts.append(pulsed_update(sub, x[:, cs], d[:, rs], lr, cfg, rng, backend))
        write_back(sub, array, rs, cs)
    return combine_updates(parts, array.shape)


def _sum(arrays, dtype):
    out = np.sum(np.stack(arrays), axis=0).astype(dtype)
    out.flags.writeable = False
    return out


def combine_updates(parts, shape) -> UpdateStats:
    """The layer's UpdateStats over its tiles: sums, except the slots, which are the
    slowest tile's (``bl_used``: its train per sample): the tiles pulse in parallel,
    each through its own trains, so the op lasts ``max_t Σ_b BL_bt`` slots (a Tiki-Taka
    transfer writing one column on every tile lasts one tile's write)."""
    p0 = parts[0]
    bl = max(parts, key=lambda p: p.pulse_slots).bl_used   # (the first of equals)
    return UpdateStats(p0.pulse_type, p0.scheme, p0.samples, int(shape[0]), int(shape[1]),
                       sum(p.device_pulses for p in parts),
                       _sum([p.pulses_per_sample for p in parts], np.int64), bl,
                       sum(p.clipped_samples for p in parts),
                       sum(p.row_pulse_slots for p in parts),
                       sum(p.col_pulse_slots for p in parts),
                       _sum([p.active_rows for p in parts], np.int64),
                       _sum([p.active_cols for p in parts], np.int64))
