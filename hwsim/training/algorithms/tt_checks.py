"""Settings of the Tiki-Taka family that run but do not do what they read as (warnings).

Checked once per experiment by :func:`check_transfer_settings` (from
``TransferAlgorithm.check_settings``, which :func:`hwsim.training.runner.prepare` calls
for ``hwsim run`` and ``hwsim validate`` alike); each finding is a
:class:`~hwsim.errors.ConfigWarning` naming the file, line and key.

* **transfer_lr of Tiki-Taka v1 past the clipping point.**  A v1 transfer is the
  pulsed update ``ΔC = (η_t/α) v e_kᵀ`` of PHYSICS.md §2 with x = e_k (x_m = 1) and
  d = v, so its busiest device wants ``k = (η_t/α)·max|v|/ε_C`` pulses; above BL_max
  update management shrinks the update to exactly BL_max/k of it, and the firing
  probabilities become |v_i|/max|v| and e_k — independent of η_t.  A read is an ADC
  level, so a nonzero max|v| is at least one ADC step Δ = out_bound/(2^(bits−1) − 1):
  for ``η_t > BL_max·ε_C·α/Δ`` every transfer clips and runs are bit-identical for every
  such η_t.  Clipping starts (for a read at the bound, |v| = w_bound) at
  ``η_t = BL_max·ε_C·α/w_bound``.
* **training.lr of Tiki-Taka v1 with auto_scale.**  A's rate is fast_lr pulses per
  update at the running maxima, C's is transfer_lr; ``training.lr`` scales only the
  digital bias updates (``Network.apply_digital_updates``).
* **Counts scaled with the device** (``reference_states``,
  :func:`scaled_counts`, used by the transfer engine): a value the user set that
  the run replaces is stated with its replacement.
"""
from __future__ import annotations

import math

from hwsim.config.validate import line_in
from hwsim.errors import warn
from hwsim.physics.quantize import step_size


def state_factor(p, n_states) -> float:
    """S/S_ref of a device of ``n_states`` states (1 when S ≤ S_ref, unknown or off)."""
    ref = getattr(p, "reference_states", None)
    if ref is None or n_states is None or not math.isfinite(n_states) or n_states <= ref:
        return 1.0
    return float(n_states) / float(ref)


def scaled_counts(p, n_states, width: int) -> tuple[int, float]:
    """(n_reads, fast_lr) on a device of ``n_states`` states, ``width`` columns per
    pointer: the counts of ``p`` scaled by f = S/S_ref when S > S_ref (``reference_states``).

    A pulse moves a weight by ε = range/S, so a count of pulses (fast_lr·BL_max per
    update onto A, ≤ BL_t or BL_max per read onto C) moves f times fewer weight units on
    an S-state device than on an S_ref-state one; reading round(f·n_reads) columns per
    transfer gives C (nearly) f times more pulses per update, and f times the fast_lr
    (capped at BL_max pulses at the running maximum, or at the given fast_lr if larger)
    gives A the same weight-unit step."""
    f = state_factor(p, n_states)
    if f == 1.0:
        return p.n_reads, p.fast_lr
    n_reads = min(max(p.n_reads, math.floor(p.n_reads * f + 0.5)), max(width, p.n_reads))
    fast = min(p.fast_lr * f, max(p.fast_lr, 1.0)) if p.auto_scale else p.fast_lr
    return n_reads, fast


def transfer_lr_limits(bl_max: int, eps_c: float, weight_scale: float, adc_step: float | None,
                       w_bound: float) -> tuple[float, float | None]:
    """(η_t where clipping starts, η_t above which every v1 transfer clips or None)."""
    start = bl_max * eps_c * weight_scale / w_bound
    every = bl_max * eps_c * weight_scale / adc_step if adc_step else None
    return start, every


def check_transfer_settings(algo_cls, params, cfg, acc, device) -> None:
    """Warn about the settings of the module docstring (no return value)."""
    file = cfg.file
    given = cfg.training.params if isinstance(cfg.training.params, dict) else {}

    def where(*keys):
        return dict(file=file, line=line_in(file, "training", *keys))

    mvm = acc.tile.mvm_config("forward")
    bl_max = acc.tile.update.bl_max
    eps = device.granularity()
    if not algo_cls.BUFFERED:
        adc = None if mvm.is_perfect or mvm.out_res_bits is None else \
            step_size(mvm.out_bound, mvm.out_res_bits)
        w_bound = max(abs(device.w_max), abs(device.w_min))
        start, every = transfer_lr_limits(bl_max, eps, params.weight_scale, adc, w_bound)
        if every is not None and params.transfer_lr > every:
            warn(f"transfer_lr {params.transfer_lr:g} is past {every:.3g}, where every "
                 f"transfer asks for more than BL_max = {bl_max} pulses (its smallest nonzero "
                 f"read, one ADC step {adc:.3g}, × transfer_lr/weight_scale ÷ ε_C {eps:g}) and "
                 f"update management clips it to the same pulses: runs are bit-identical for "
                 f"every transfer_lr > {every:.3g} (clipping starts at ≈ {start:.3g}, a read at "
                 f"the bound {w_bound:g})", key="training.params.transfer_lr",
                 **where("params", "transfer_lr"))
        if params.auto_scale and line_in(file, "training", "lr") is not None:
            warn(f"with auto_scale on, {cfg.training.algorithm}'s lr ({cfg.training.lr:g}) "
                 f"moves only the digital biases: A learns at fast_lr = {params.fast_lr:g} of "
                 f"BL_max pulses per update at the running maxima, C at transfer_lr = "
                 f"{params.transfer_lr:g}", key="training.lr", **where("lr"))
    f = state_factor(params, device.number_of_states())
    if f > 1.0:
        n_reads, fast = scaled_counts(params, device.number_of_states(), 1 << 30)
        changed = [f"n_reads {params.n_reads} → ≥{n_reads}" if "n_reads" in given else "",
                   f"fast_lr {params.fast_lr:g} → {fast:g}" if "fast_lr" in given and
                   fast != params.fast_lr else ""]
        changed += [f"{k} {getattr(params, k):g} → {getattr(params, k) * params.n_reads / n_reads:.3g}"
                    for k in ("in_chop_prob", "out_chop_prob") if k in given]
        changed = [c for c in changed if c]
        if changed:
            warn(f"the device has {device.number_of_states():.0f} states, {f:.3g}× "
                 f"reference_states ({params.reference_states:g}): {', '.join(changed)} "
                 f"(n_reads at most the tile width), so that A and C move as many weight "
                 f"units per update as on a {params.reference_states:g}-state device; set "
                 f"reference_states: null to keep the counts as given",
                 key="training.params.reference_states", **where("params"))
