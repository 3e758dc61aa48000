"""NumPy twin of the kernels' Gaussian sampler: the same N(0, 1) draws, bit for bit.

The periphery kernels (``cython_ext/quantize.pyx``) draw their noise with a ziggurat
(Marsaglia & Tsang, J. Stat. Softw. 5(8), 2000; 256 layers) fed by the caller's
bit generator.  :func:`normals` reproduces it in NumPy: the same words of the same
bit generator, the same arithmetic, and it leaves the bit generator in the same state,
so the NumPy backend is a reference of the Cython one and not another simulator.

One normal, as the kernel draws it::

    r = next_uint32()                       # low half of a 64-bit word, then its high half
    i = r & 0xFF;  u = 2·(r >> 8)·2⁻²⁴ − 1  # layer, signed uniform in [−1, 1)
    |u| < x[i+1]/x[i]        → u·x[i]       # fast path (~99 %)
    i = 0                    → tail beyond R from two 53-bit uniforms (Marsaglia 1964)
    otherwise                → x = u·x[i], accept if f1 + U·(f0 − f1) < 1, else redraw

``next_uint32`` of the 64-bit generators hands out the two halves of one 64-bit word
(low first) and keeps the unused half in the generator's state (``has_uint32``,
``uinteger``); ``next_uint64`` (the 53-bit uniforms) takes whole words and leaves
that half in place.  :func:`normals` follows exactly this protocol: the fast path
runs vectorised over a block of words, every rejection runs in scalar Python with
:mod:`math`'s ``exp``/``log`` (the C library's, as in the kernel).  Tables use the
same C library calls in the same order (tested against ``ziggurat_table()``).
"""
from __future__ import annotations

import math

import numpy as np

ZIG_LAYERS = 256
ZIG_R = 3.6541528853610088       # start of the tail (Marsaglia & Tsang 2000)
ZIG_V = 4.92867323399e-3         # area of every layer
#: bit generators whose next_uint32 splits next_uint64 words and whose state holds the
#: buffered half (``has_uint32``/``uinteger``); others fall back to numpy's sampler
SUPPORTED = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Layer edges x[0..256] and fast-accept ratios x[i+1]/x[i] (as the kernel builds them)."""
    x = [0.0] * (ZIG_LAYERS + 1)
    f = math.exp(-0.5 * ZIG_R * ZIG_R)
    x[0] = ZIG_V / f
    x[1] = ZIG_R
    for i in range(2, ZIG_LAYERS):
        x[i] = math.sqrt(-2.0 * math.log(ZIG_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    x[ZIG_LAYERS] = 0.0
    ratio = [x[i + 1] / x[i] for i in range(ZIG_LAYERS)]
    return np.array(x), np.array(ratio)


ZIG_X, ZIG_RATIO = _tables()
_X, _RATIO = ZIG_X.tolist(), ZIG_RATIO.tolist()
_LOW32 = np.uint64(0xFFFFFFFF)
_BLOCK = 256      # words per vectorised step: ~1 % of draws reject, each rescans its block


class _Words:
    """The bit generator's words, drawn only when they are certainly consumed, with the
    generator's own buffered 32-bit half."""

    def __init__(self, bit_generator):
        self.bg = bit_generator
        st = bit_generator.state
        self.has = bool(st["has_uint32"])
        self.half = int(st["uinteger"])
        self.block = np.zeros(0, np.uint64)
        self.pos = 0

    def u64(self) -> int:
        if self.pos < self.block.size:
            self.pos += 1
            return int(self.block[self.pos - 1])
        return int(self.bg.random_raw())

    def u32(self) -> int:
        if self.has:
            self.has = False
            return self.half
        w = self.u64()
        self.has, self.half = True, w >> 32
        return w & 0xFFFFFFFF

    def uniform_open(self) -> float:
        return (float(self.u64() >> 11) + 1.0) * (1.0 / 9007199254740992.0)

    def top_up(self, n: int) -> np.ndarray:
        """The unconsumed words, drawn up to ``n`` (the caller consumes them all)."""
        rest = self.block[self.pos:]
        assert rest.size <= n, "ziggurat twin: more words drawn than needed"
        if rest.size < n:
            rest = np.concatenate([rest, self.bg.random_raw(n - rest.size).astype(np.uint64)])
        self.block, self.pos = rest, 0
        return rest

    def close(self) -> None:
        assert self.pos == self.block.size, "ziggurat twin drew words it did not use"
        st = self.bg.state
        st["has_uint32"], st["uinteger"] = int(self.has), int(self.half)
        self.bg.state = st


def _one(words: _Words) -> float:
    """One normal from the next 32-bit word on (the kernel's ``_normal``, scalar)."""
    while True:
        r = words.u32()
        i = r & 0xFF
        u = 2.0 * ((r >> 8) * (1.0 / 16777216.0)) - 1.0
        if abs(u) < _RATIO[i]:
            return u * _X[i]
        if i == 0:
            while True:
                x = -math.log(words.uniform_open()) / ZIG_R
                y = -math.log(words.uniform_open())
                if y + y >= x * x:
                    break
            return -(ZIG_R + x) if u < 0.0 else ZIG_R + x
        x = u * _X[i]
        f0 = math.exp(-0.5 * (_X[i] * _X[i] - x * x))
        f1 = math.exp(-0.5 * (_X[i + 1] * _X[i + 1] - x * x))
        if f1 + words.uniform_open() * (f0 - f1) < 1.0:
            return x


def normals(rng: np.random.Generator, shape) -> np.ndarray:
    """N(0, 1) draws of ``shape`` (row-major order), equal to the kernels' draws from
    ``rng`` and leaving ``rng`` in the state the kernels leave it in."""
    n = int(np.prod(shape, dtype=np.int64))
    bg = rng.bit_generator
    if not isinstance(bg, SUPPORTED):
        return rng.standard_normal(shape)        # (the kernels are not bitwise twins here)
    out = np.empty(n)
    if n == 0:
        return out.reshape(shape)
    words = _Words(bg)
    done = 0
    while done < n:
        if words.has:                            # a buffered half: one scalar draw
            out[done] = _one(words)
            done += 1
            continue
        need = min(n - done, 2 * _BLOCK)     # (a rejection shifts the words after it)
        block = words.top_up((need + 1) // 2)
        r = np.empty(2 * block.size, np.uint64)
        r[0::2], r[1::2] = block & _LOW32, block >> np.uint64(32)
        r = r[:need]
        i = (r & np.uint64(0xFF)).astype(np.intp)
        u = 2.0 * ((r >> np.uint64(8)).astype(np.float64) * (1.0 / 16777216.0)) - 1.0
        ok = np.abs(u) < ZIG_RATIO[i]
        f = need if ok.all() else int(np.argmin(ok))   # first rejection
        out[done:done + f] = u[:f] * ZIG_X[i[:f]]
        done += f
        words.pos = (f + 1) // 2                    # words whose low half is used
        if f:                 # the generator keeps the high half of its last word
            words.has, words.half = bool(f % 2), int(block[(f - 1) // 2]) >> 32
        if f < need:                                # the rejected word: scalar path
            out[done] = _one(words)
            done += 1
    words.close()
    return out.reshape(shape)
