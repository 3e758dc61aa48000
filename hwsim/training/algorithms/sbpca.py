"""SBPCA: rank-k weight updates from a streaming batch PCA of the gradient (PHYSICS.md §4).

Hoskins et al., Front. Neurosci. 13:793 (2019), "Streaming batch eigenupdates for
hardware neural networks"; Huang et al., ACM JETC (2023).  A mini-batch gradient
``G = Dᵀ X = Σ_b d_b x_bᵀ`` (X (B, N) inputs, D (B, M) errors; d carries the 1/B of
the mean loss) has low rank.  Instead of B rank-1 writes (SGD) or one full-rank
matrix write (mini-batch GD), a digital unit keeps the top-k singular triplets of
the per-sample mean gradient, X̂ (N×k), D̂ (M×k), σ (k), and the array receives k
rank-1 pulsed updates per batch.

Streaming step for sub-batch t (rows X_t, D_t, size m_t ≤ m [32])::

    y = D_t D̂ / ((t+2) m_t)              X̂ ← X̂ (t+1)/(t+2) + X_tᵀ y / σ,   X̂ ← QR(X̂)
    z = X_t X̂ / ((t+2) m_t)              D̂ ← D̂ (t+1)/(t+2) + D_tᵀ z / σ,   D̂ ← QR(D̂)
    σ ← σ (t+1)/(t+2) + Σ_rows(D_t D̂ ⊙ X_t X̂) / ((t+2) m_t)

(X̂, D̂, σ carry over to the next batch: the previous estimate counts as one extra
sub-batch, a warm start.)  QR is the reduced Householder QR with the signs of R's
diagonal made positive, so a column keeps its direction.  The update is
``ΔW = −η·n·Σ_r σ_r D̂_r X̂_rᵀ`` (n = batch size), applied as k rank-1 pulsed updates
with ``x_r = √|σ_r| X̂_r`` and ``d_r = sign(σ_r)√|σ_r| D̂_r`` at learning rate η·n.

Initialisation (first batch only; not in the references, written down here): X̂ is
a random orthonormal N×k matrix from the layer's stream, ``D̂ = QR(D_0ᵀ X_0 X̂)`` and
``σ = Σ_rows(D_0 D̂ ⊙ X_0 X̂)/m_0`` (one power half-step, so σ starts at the scale
of the gradient rather than at an arbitrary constant).  ``k > min(M, N)`` is
reduced to ``min(M, N)``; |σ_r| is floored at 1e-30 inside the divisions.

Digital work (issued as ``digital`` ops of kind ``pca``, counted in multiply-
accumulates, MACs) per sub-batch of m rows::

    power = m·k·(3M + 2N + 1)     (D_t D̂, X_tᵀ y, X_t X̂, D_tᵀ z, D_t D̂ again, row sums)
    blend = 2k(N + M) + 2k        (the (t+1)/(t+2) blends of X̂, D̂, σ)
    qr    = qr_macs(N, k) + qr_macs(M, k),   qr_macs(n, k) = n·k² − ⌊k³/3⌋
            (Householder QR: 2nk² − 2k³/3 flops = half as many MACs, Golub & Van Loan §5.2)

and per batch ``k(M + N)`` scalings (kind ``scale``) for the √σ split, plus the
initialisation's power half-step and QR once.
"""
from __future__ import annotations

import numpy as np

from hwsim.errors import NonFiniteError
from hwsim.config.params import param, section
from hwsim.training.algorithms.analog import AnalogWeights
from hwsim.training.algorithms.base import Algorithm
from hwsim.training.algorithms.symbolic import Expect

_HOSKINS = "Hoskins et al., Front. Neurosci. 13:793 (2019); Huang et al., ACM JETC (2023)"
_TINY = 1e-30


def qr_macs(n: int, k: int) -> int:
    """MACs of a reduced Householder QR of an n×k matrix (n ≥ k): n·k² − ⌊k³/3⌋."""
    return int(n * k * k - (k ** 3) // 3)


def power_macs(m: int, out_f: int, in_f: int, k: int) -> int:
    """MACs of the matrix products of one streaming step on m rows."""
    return int(m * k * (3 * out_f + 2 * in_f + 1))


def _qr_pos(a: np.ndarray) -> np.ndarray:
    """Reduced QR with diag(R) ≥ 0: the orthonormal factor keeps the columns' directions."""
    q, r = np.linalg.qr(a)
    s = np.sign(np.diag(r))
    s[s == 0] = 1.0
    return q * s


def _safe(sig: np.ndarray) -> np.ndarray:
    return np.where(np.abs(sig) > _TINY, sig, _TINY)


class StreamingPCA:
    """Top-k singular triplets of the mean outer product ``Dᵀ X / rows``, streamed.

    ``update(X, D)`` consumes one mini-batch and returns the MACs it did
    (``{"pca": ..., "init": ...}``); ``x_hat`` (N, k), ``d_hat`` (M, k), ``sigma`` (k,).
    """

    def __init__(self, out_features: int, in_features: int, rank: int, sub_batch: int,
                 rng: np.random.Generator):
        if rank < 1 or sub_batch < 1:
            raise ValueError(f"rank and sub_batch must be ≥ 1, got {rank}, {sub_batch}")
        self.m_out, self.n_in = int(out_features), int(in_features)
        self.k = min(int(rank), self.m_out, self.n_in)
        self.sub_batch = int(sub_batch)
        self.rng = rng
        self.x_hat: np.ndarray | None = None
        self.d_hat: np.ndarray | None = None
        self.sigma: np.ndarray | None = None

    def _init(self, x0: np.ndarray, d0: np.ndarray) -> int:
        k, m0 = self.k, len(x0)
        self.x_hat = _qr_pos(self.rng.standard_normal((self.n_in, k)))
        xp = x0 @ self.x_hat
        self.d_hat = _qr_pos(d0.T @ xp)
        self.sigma = np.einsum("ij,ij->j", d0 @ self.d_hat, xp) / m0
        return self._init_macs(m0)

    def _init_macs(self, m0: int) -> int:
        """MACs of the initialisation on m0 rows (power half-step and one QR)."""
        return m0 * self.k * (2 * self.n_in + 2 * self.m_out + 1) + qr_macs(self.m_out, self.k)

    def _step_macs(self, mt: int) -> int:
        """MACs of one streaming step on mt rows (products, blends, two QRs)."""
        k = self.k
        return power_macs(mt, self.m_out, self.n_in, k) + 2 * k * (self.n_in + self.m_out) \
            + 2 * k + qr_macs(self.n_in, k) + qr_macs(self.m_out, k)

    def macs(self, rows: int, first: bool) -> dict:
        """The MACs :meth:`update` does on ``rows`` rows (they depend on shapes only)."""
        b = self.sub_batch
        return {"pca": sum(self._step_macs(min(b, rows - s)) for s in range(0, rows, b)),
                "init": self._init_macs(min(b, rows)) if first else 0}

    def update(self, x: np.ndarray, d: np.ndarray) -> dict:
        x = np.asarray(x, dtype=np.float64)
        d = np.asarray(d, dtype=np.float64)
        if x.ndim != 2 or d.ndim != 2 or x.shape[0] != d.shape[0] or \
                x.shape[1] != self.n_in or d.shape[1] != self.m_out:
            raise ValueError(f"SBPCA: X {x.shape} and D {d.shape} do not fit a "
                             f"{self.m_out}×{self.n_in} layer")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(d))):
            raise NonFiniteError("SBPCA: X or D contains NaN or inf")
        macs = {"pca": 0, "init": 0}
        if self.x_hat is None:
            macs["init"] = self._init(x[:self.sub_batch], d[:self.sub_batch])
        for t, s in enumerate(range(0, len(x), self.sub_batch)):
            xt, dt = x[s:s + self.sub_batch], d[s:s + self.sub_batch]
            mt = len(xt)
            w_old, den = (t + 1) / (t + 2), (t + 2) * mt
            sig = _safe(self.sigma)
            y = dt @ self.d_hat / den
            self.x_hat = _qr_pos(self.x_hat * w_old + (xt.T @ y) / sig)
            xp = xt @ self.x_hat
            z = xp / den
            self.d_hat = _qr_pos(self.d_hat * w_old + (dt.T @ z) / sig)
            self.sigma = self.sigma * w_old + np.einsum("ij,ij->j", dt @ self.d_hat, xp) / den
            macs["pca"] += self._step_macs(mt)
        return macs

    def rank1_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """(x (k, N), d (k, M)) with Σ_r d_r x_rᵀ = Σ_r σ_r D̂_r X̂_rᵀ, √|σ_r| on each side."""
        root = np.sqrt(np.abs(self.sigma))
        return (self.x_hat * root).T.copy(), (self.d_hat * (root * np.sign(self.sigma))).T.copy()

    def estimate(self) -> np.ndarray:
        """The current rank-k estimate Σ_r σ_r D̂_r X̂_rᵀ (M, N) of Dᵀ X / rows."""
        return (self.d_hat * self.sigma) @ self.x_hat.T


@section("sbpca", "Streaming batch PCA: k rank-1 pulsed updates per mini-batch")
class SBPCAParams:
    rank: int = param(4, lo=1, hi=1024, cite=_HOSKINS + " (k ≪ batch; 4 assumed)",
                      desc="k, rank of the update (singular triplets kept per layer; "
                           "reduced to min(M, N))")
    sub_batch: int = param(32, lo=1, cite="PHYSICS.md §4 (m [32])",
                           desc="m, rows per streaming power-iteration step")


class SBPCA(Algorithm):
    NAME = "sbpca"
    Params = SBPCAParams
    ROLES = ("W",)

    def __init__(self, params, training, context):
        super().__init__(params, training, context)
        self.arrays: dict = {}
        self.pca: dict = {}
        self.counts = {"batches": 0, "samples": 0, "rank1_writes": 0, "device_pulses": 0,
                       "pca_macs": 0, "scale_ops": 0}
        self.per_epoch: list = []

    def make_backend(self, name, out_features, in_features, init_w):
        arr = self.new_array(name, "W", (out_features, in_features), init_w=init_w)
        self.arrays[name] = arr
        self.pca[name] = StreamingPCA(out_features, in_features, self.params.rank,
                                      self.params.sub_batch, self.ctx.rng(f"{name}/sbpca/init"))
        self.backends[name] = AnalogWeights([(arr, 1.0)])
        return self.backends[name]

    def update(self, network, batch_size):
        n = int(batch_size)
        for layer in network.analog_layers():
            arr, pca = self.arrays[layer.name], self.pca[layer.name]
            if self.symbolic:          # shapes only: the MACs are exact, the factors dense
                macs = pca.macs(len(layer.last_input), first=self.counts["batches"] == 0)
                xs, ds = Expect((pca.k, pca.n_in)), Expect((pca.k, pca.m_out))
            else:
                macs = pca.update(layer.last_input, layer.last_delta)
                xs, ds = pca.rank1_factors()
            self.hw.digital("pca", macs["pca"] + macs["init"], layer=layer.name, phase="update")
            scale = pca.k * (pca.m_out + pca.n_in)
            self.hw.digital("scale", scale, layer=layer.name, phase="update")
            st = arr.pulsed_update(xs, ds, self.lr * n)
            arr.end_of_batch()
            self.counts["rank1_writes"] += pca.k
            self.counts["device_pulses"] += st.device_pulses
            self.counts["pca_macs"] += macs["pca"] + macs["init"]
            self.counts["scale_ops"] += scale
        self.counts["batches"] += 1
        self.counts["samples"] += n

    def end_epoch(self, epoch: int) -> None:
        """Record this epoch's writes (rank-1 SBPCA writes vs SGD and mini-batch GD)."""
        layers = max(len(self.arrays), 1)
        prev = self.per_epoch[-1]["cumulative"] if self.per_epoch else dict.fromkeys(self.counts, 0)
        diff = {k: self.counts[k] - prev[k] for k in ("batches", "samples", "rank1_writes")}
        self.per_epoch.append({"epoch": int(epoch), "sbpca_rank1_writes": diff["rank1_writes"],
                               "sgd_rank1_writes": diff["samples"] * layers,
                               "minibatch_gd_matrix_writes": diff["batches"] * layers,
                               "cumulative": dict(self.counts)})

    def stats(self) -> dict:
        """Matrix writes of this run against SGD (a rank-1 write per sample and layer) and
        mini-batch GD (one full-rank matrix write per batch and layer)."""
        layers = max(len(self.arrays), 1)
        c = dict(self.counts)
        c["sgd_rank1_writes"] = c["samples"] * layers
        c["minibatch_gd_matrix_writes"] = c["batches"] * layers
        c["writes_vs_sgd"] = c["rank1_writes"] / max(c["sgd_rank1_writes"], 1)
        c["rank"] = {k: p.k for k, p in self.pca.items()}
        c["pulses"] = {k: a.pulses for k, a in self.arrays.items()}
        c["per_epoch"] = [{k: v for k, v in e.items() if k != "cumulative"} for e in self.per_epoch]
        return c

    def state(self):
        return {"backends": self.backends, "arrays": self.arrays, "pca": self.pca,
                "counts": self.counts, "per_epoch": self.per_epoch}

    def load_state(self, state):
        self.backends, self.arrays = state["backends"], state["arrays"]
        self.pca, self.counts = state["pca"], state["counts"]
        self.per_epoch = state["per_epoch"]
