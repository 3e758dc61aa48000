"""``hwsim trace generate``: the op stream of a training algorithm from layer shapes alone.

For networks too large to train here (VGG-8, ResNet-32, an LSTM), the generator emits
the ops the algorithm in :mod:`hwsim.training.algorithms` would issue — the same op
kinds, order, roles, phases and item counts ``n`` — with *expected* data statistics
from the model below instead of measured ones.  No numerics run.

Per mini-batch of B samples, a layer with ``M`` outputs, ``N`` inputs and ``P``
vectors per sample sees ``V = B·P`` vectors.  Order (as ``hwsim.training.runner``
issues it): ``forward`` of every layer; ``backward`` from the last layer down to the
second (the first needs no input error); the algorithm's updates layer by layer;
``digital`` activations (``V·M`` per layer) and the ``loss_grad`` (``B·M_last``).
A recurrent layer (``kind: lstm``) also runs its transposed MVMs when it is first:
backpropagation through time needs the error of ``h_{t−1}``.

Statistics model (parameters by ``--param``, defaults in :data:`MODEL`):

* input/error entries are zero with probability ``s_x`` / ``s_d``; nonzero
  normalised magnitudes ``|x|/max|x|`` are uniform on (0, 1], so ``E|x̂| = 1/2`` and
  ``E x̂² = 1/3``; normalised conductances have mean ``g`` (``g_mean``).
* MVM (PHYSICS.md §3): ``sum_gv2 = V·M·N·g·(1−s)·⅓`` (``s = s_x`` forward,
  ``s_d`` backward); no ADC saturations and no bound-management repeats.
* Pulsed update (Gokmen & Vlasov, Front. Neurosci. 10:333, 2016; PHYSICS.md §2):
  ``BL`` slots per vector (``bl``), column j fires per slot with
  ``q_x = (1−s_x)·½``, row i with ``q_d = (1−s_d)·½`` (update management scales the
  largest entry to probability ≈ 1), independently, so per op
  ``n = V·BL``, ``col_slots = n·N·q_x``, ``row_slots = n·M·q_d`` and the expected
  coincidences ``pulses = n·M·N·q_x·q_d``; ``rng_draws = n·(M+N)`` for
  ``stochastic_compressed`` trains (the tile default), else 0.
* Transfers (Tiki-Taka family, Rasch et al., Nat. Commun. 15:7133, 2024): column
  reads of A have ``sum_gv2 = k·M·g`` for k one-hot reads; a fraction ``h_write`` of
  the ``M·k`` buffer elements crosses the threshold per read, each sending
  ``pulses_per_write`` pulses to C: ``writes = M·k·h``, C update
  ``n = pulses_per_write``, ``pulses = writes·n``, ``row_slots = n·M·(1−(1−h)^k)``,
  ``col_slots = n·k·(1−(1−h)^M)``.  Random chopper flips are the expectation
  ``p_in·k`` per read chunk, carried as a running fraction and issued when whole
  (regular flips are exact); AGAD has no writes in its first ``n_s`` sweeps.

Every count is rounded to the nearest integer (at least 1 where an op must exist).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hwsim.errors import ConfigError, TraceError

ALGORITHMS = ("float", "sgd", "ttv2", "c-ttv2", "agad")
ROLES = {"float": ("W",), "sgd": ("W",), "ttv2": ("A", "C", "R"), "c-ttv2": ("A", "C", "R"),
         "agad": ("A", "C")}
#: statistics model (see module docstring)
MODEL = {"input_sparsity": 0.5, "error_sparsity": 0.0, "g_mean": 0.5, "bl": 4,
         "pulse_type": "stochastic_compressed", "h_write": 0.02, "pulses_per_write": 1}
#: algorithm parameters that change the op stream (defaults of hwsim.training.algorithms)
ALGO = {"transfer_every": 1, "n_reads": 1, "in_chop_prob": 0.1, "in_chop_random": True,
        "out_chop_prob": 0.0, "gamma": 0.0}


def load_network(path) -> dict:
    """A network YAML: ``network`` (spec list, hwsim.training.network) + ``input_shape``,
    or ``layers`` (shapes only: name, kind, out_features, in_features,
    vectors_per_sample).  Returns ``{"name", "source", "layers": [dict, ...]}``."""
    from hwsim.config.yamlio import load_yaml
    data = load_yaml(str(path))
    if not isinstance(data, dict):
        raise ConfigError("network file must be a mapping with 'network' or 'layers'",
                          file=str(path))
    name = str(data.get("name", Path(path).stem))
    if "layers" in data:
        layers = [dict(x) for x in data["layers"]]
        from hwsim.trace.format import check_header
        check_header({"network": layers, "batch": 1, "algorithm": "-", "roles": ["W"],
                      "source": "-"}, str(path))
    elif "network" in data:
        from hwsim.training.network import build_network
        if "input_shape" not in data:
            raise ConfigError("a 'network' spec needs 'input_shape' (e.g. [3, 32, 32])",
                              file=str(path), key="input_shape")
        net = build_network(data["network"], tuple(data["input_shape"]),
                            rng=np.random.default_rng(0), key="network")
        layers = [s._asdict() for s in net.layer_shapes()]
    else:
        raise ConfigError("network file needs 'network' (+ input_shape) or 'layers'",
                          file=str(path))
    return {"name": name, "source": str(data.get("source", "")), "layers": layers}


class _Stream:
    """Emits ops of one algorithm with expected statistics into a TraceWriter."""

    def __init__(self, writer, layers, algorithm, model, algo):
        self.w, self.layers, self.alg = writer, layers, algorithm
        self.m, self.a = model, algo
        sx, sd = model["input_sparsity"], model["error_sparsity"]
        self.qx, self.qd = (1 - sx) * 0.5, (1 - sd) * 0.5
        self.state = {x["name"]: {"k": 0, "pending": 0, "sweeps": 0, "flip_carry": 0.0,
                                  "out_carry": 0.0,
                                  "reads_col": np.zeros(x["in_features"], np.int64)}
                      for x in layers}

    def op(self, op_kind, n, layer, role, phase, /, **meta):
        from hwsim.sim.program import Op
        n = int(round(n))
        if n <= 0:
            return
        self.w.record(Op(op_kind, n, layer, role, phase, tuple(sorted(meta.items()))))

    def _mvm(self, kind, x, v, s):
        m, n = x["out_features"], x["in_features"]
        return dict(sum_gv2=float(v * m * n * self.m["g_mean"] * (1 - s) / 3.0),
                    adc_saturations=0, bm_repeats=0)

    def _pulsed(self, x, v, role, phase):
        m, n = x["out_features"], x["in_features"]
        slots = int(round(v * self.m["bl"]))
        draws = slots * (m + n) if self.m["pulse_type"] == "stochastic_compressed" else 0
        self.op("update", slots, x["name"], role, phase,
                pulses=int(round(slots * m * n * self.qx * self.qd)),
                row_slots=int(round(slots * m * self.qd)),
                col_slots=int(round(slots * n * self.qx)), samples=int(v), rng_draws=draws)

    def step(self, batch: int) -> None:
        """One mini-batch in the runner's order: per layer the MVM and the digital
        post-processing of its output, the loss gradient, the backward MVMs (not for the
        first layer), then the updates (mirrors hwsim.training.runner)."""
        tt = self.alg in ("ttv2", "c-ttv2", "agad")
        fwd_roles = ("W",) if not tt else (("C", "A") if self.a["gamma"] > 0 else ("C",))
        for x in self.layers:
            self._mvm_op(x, batch, "forward", fwd_roles)
            self._activation(x, batch)
        self._loss_grad(batch)
        for x in reversed([y for i, y in enumerate(self.layers)
                           if i > 0 or y["kind"] == "lstm"]):
            self._mvm_op(x, batch, "backward", fwd_roles)
        for x in self.layers:
            v = batch * x["vectors_per_sample"]
            if self.alg == "float":
                self.op("digital", v * x["out_features"] * x["in_features"], x["name"], "-",
                        "update", kind="mac")
            elif self.alg == "sgd":
                self._pulsed(x, v, "W", "update")
            else:
                self._transfer_step(x, v)
        self.w.end_step(batch)

    def _mvm_op(self, x, batch, kind, roles):
        """A layer's MVM: analog ``forward``/``backward`` ops, or digital MACs (float)."""
        v = batch * x["vectors_per_sample"]
        if self.alg == "float":
            self.op("digital", v * x["out_features"] * x["in_features"], x["name"], "-", kind,
                    kind="mac")
            return
        sparsity = self.m["input_sparsity" if kind == "forward" else "error_sparsity"]
        meta = self._mvm(kind, x, v, sparsity)
        for r in roles:
            self.op(kind, v, x["name"], r, kind, **meta)

    def _activation(self, x, batch):
        """The digital post-processing of a layer's output, between the layer MVMs."""
        self.op("digital", batch * x["out_features"] * x["vectors_per_sample"], x["name"],
                "-", "forward", kind="activation")

    def _loss_grad(self, batch):
        self.op("digital", batch * self.layers[-1]["out_features"], "", "-", "backward",
                kind="loss_grad")

    # -- Tiki-Taka family (mirrors hwsim.training.algorithms.tt_family) ---------------
    def _transfer_step(self, x, v):
        st, a = self.state[x["name"]], self.a
        self._pulsed(x, v, "A", "update")
        st["pending"] += v
        count = st["pending"] // a["transfer_every"]
        st["pending"] %= a["transfer_every"]
        n = x["in_features"]
        total = count * a["n_reads"]
        start = st["k"]
        for off in range(0, total, n):
            k = min(n, total - off)
            cols = (start + off + np.arange(k)) % n
            self._read_and_transfer(x, st, cols)

    def _read_and_transfer(self, x, st, cols):
        name, m, n = x["name"], x["out_features"], x["in_features"]
        k, g = len(cols), self.m["g_mean"]
        self.op("read_column", k, name, "A", "transfer", col=int(cols[0]),
                sum_gv2=float(k * m * g), adc_saturations=0, bm_repeats=0)
        if self.alg in ("ttv2", "c-ttv2"):
            self.op("read_column", k, name, "R", "transfer", col=int(cols[0]))
        h = self.m["h_write"]
        half = self._half_period()
        warm = self.alg == "agad" and st["sweeps"] < half
        if self.alg == "agad":   # v − p, and m ← (1−ρ)m + ρv (as tt_family issues them)
            for kind in ("add", "mult", "mac"):
                self.op("digital", m * k, name, "-", "transfer", kind=kind)
        writes = 0 if warm else int(round(m * k * h))
        self.op("accumulate", m * k, name, "H", "transfer", compares=m * k, writes=writes)
        if writes:
            ppw = int(self.m["pulses_per_write"])
            self.op("update", ppw, name, "C", "transfer", pulses=writes * ppw,
                    row_slots=int(round(ppw * m * (1 - (1 - h) ** k))),
                    col_slots=int(round(ppw * k * (1 - (1 - h) ** m))), rng_draws=0)
        self._chop(x, st, cols)
        st["k"] = int((cols[-1] + 1) % n)
        if st["k"] == 0 or cols[-1] == n - 1:
            st["sweeps"] += 1
            if self.alg in ("c-ttv2", "agad") and self.a["out_chop_prob"] > 0:
                st["out_carry"] += m * self.a["out_chop_prob"]
                whole = int(st["out_carry"])
                st["out_carry"] -= whole
                self.op("flip", whole, name, "A", "transfer")

    def _half_period(self):
        p = self.a["in_chop_prob"]
        return max(math.ceil(1.0 / p), 2) if p > 0 else 2

    def _chop(self, x, st, cols):
        p = self.a["in_chop_prob"]
        if self.alg not in ("c-ttv2", "agad") or p <= 0:
            return
        st["reads_col"][cols] += 1
        if self.a["in_chop_random"]:
            st["flip_carry"] += len(cols) * p
            flips = int(st["flip_carry"])
            st["flip_carry"] -= flips
        else:
            due = cols[st["reads_col"][cols] >= self._half_period()]
            st["reads_col"][due] = 0
            flips = int(due.size)
        self.op("flip", flips, x["name"], "A", "transfer")


def generate_trace(network, batch: int, steps: int, algorithm: str, *, out,
                   samples: int | None = None, progress: bool = False, **params) -> Path:
    """Write the trace of ``steps`` mini-batches of ``batch`` (the last one holds the rest
    of ``samples`` when given) for ``network`` (a YAML path, a :func:`load_network`
    dict or a list of layer-shape dicts).  ``params``: statistics model
    (:data:`MODEL`) and algorithm parameters (:data:`ALGO`).  ``progress``: a tqdm bar
    over the steps on stderr."""
    from hwsim.trace.format import TraceWriter
    if algorithm not in ALGORITHMS:
        raise TraceError(f"cannot generate traces for algorithm '{algorithm}' (supported: "
                         f"{', '.join(ALGORITHMS)})")
    if batch < 1 or steps < 1:
        raise TraceError(f"batch and steps must be >= 1, got batch={batch}, steps={steps}")
    unknown = [k for k in params if k not in MODEL and k not in ALGO]
    if unknown:
        raise TraceError(f"unknown generator parameter(s) {', '.join(unknown)} (model: "
                         f"{', '.join(MODEL)}; algorithm: {', '.join(ALGO)})")
    net = network if isinstance(network, dict) else (
        {"name": "network", "source": "", "layers": [dict(x) for x in network]}
        if isinstance(network, list) else load_network(network))
    model = {**MODEL, **{k: v for k, v in params.items() if k in MODEL}}
    algo = {**ALGO, **{k: v for k, v in params.items() if k in ALGO}}
    header = {"network": net["layers"], "batch": batch, "algorithm": algorithm,
              "roles": list(ROLES[algorithm]),
              "source": f"generated: {net['name']} ({net['source']})".replace(" ()", ""),
              "generated": {"steps": steps, "samples": samples, "model": model,
                            "algorithm_params": algo}}
    with TraceWriter(out, header) as w:
        stream = _Stream(w, net["layers"], algorithm, model, algo)
        left = samples if samples is not None else batch * steps
        bar = tqdm(total=steps, unit="step", desc=f"trace {algorithm}", mininterval=0.5,
                   disable=not progress)
        with bar:
            for _ in range(steps):
                b = min(batch, left)
                if b <= 0:
                    break
                stream.step(b)
                left -= b
                bar.update(1)
    return Path(out)
