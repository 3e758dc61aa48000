# The digital chain of every transfer of one mini-batch of the buffered Tiki-Taka family
# (TTv2, c-TTv2, AGAD; Gokmen, Front. AI 4:699148, 2021; Rasch et al., Nat. Commun.
# 15:7133, 2024; PHYSICS.md §4) in one call: for each chunk of distinct read columns,
# in order,
#
#     AGAD:  vt = v − p[:, j];  m[:, j] ← (1−ρ)·m[:, j] + ρ·v          (else vt = v)
#     h      = H[i, j] + (s · c_in[j] · c_out[i]) · vt[i]              (sign 1 unchopped)
#     fire   = enabled and |h| ≥ 1;  n = clip(trunc(h), ±P) where fire, else 0
#     H[i,j] = h · momentum where fire, else h
#     choppers: reads[j] += 1; c_in[j] flips when u < p_in (random, one pre-drawn
#               uniform per read) or reads[j] ≥ half period (regular); a flip resets
#               reads[j] and, for AGAD, sets p[:, j] ← m[:, j]
#     a chunk reaching the last column (it runs on from its first, modulo n) ends a sweep: sweeps += 1, each c_out[i] flips
#               when u < p_out (M pre-drawn uniforms); AGAD writes nothing to C while
#               sweeps < half period (``enabled``, taken at the chunk's start)
#
# The NumPy twin (the test oracle, and ``backend: numpy``) is
# hwsim/training/transfer_chain.py::chain_numpy: the same IEEE operations in the same
# order and precision (no FMA: setup.py builds with -ffp-contract=off), so they agree
# bit for bit.  ``floating``: the buffer/read precision (float64 or float32 state); the
# scalars s, ρ, momentum are rounded to it once, as NumPy does with a Python scalar.
from cython cimport floating
from libc.math cimport fabs, trunc
from libc.stdint cimport int64_t, int8_t


def chain(floating[:, ::1] H, const floating[:, ::1] v, const int64_t[::1] cols,
          const int64_t[::1] bounds, double scale, double[::1] c_in, double[::1] c_out,
          bint chopped, double momentum, int64_t max_pulses,
          bint agad, floating[:, ::1] m_mean, floating[:, ::1] p_ref, double rho,
          int64_t sweeps, int64_t half_period, int in_mode, double p_in,
          int64_t[::1] reads_col, bint out_on, double p_out, const double[::1] u,
          int64_t[:, ::1] counts, int64_t[::1] writes, int8_t[::1] flipped,
          int64_t[::1] out_flips):
    """Run the chain over the chunks ``cols[bounds[c]:bounds[c+1]]`` (module comment).

    v (total, M): the reads of ``cols`` (total,); counts (M, total) out; writes,
    out_flips (chunks,) out; flipped (total,) out: 1 where c_in of that read's column
    flipped after it.  ``in_mode``: 0 no input chopper, 1 random, 2 regular.  ``u``:
    the uniforms in the order the chain uses them.  Returns the sweep count after the
    chunks.  Shapes are checked by the Python wrapper.
    """
    cdef Py_ssize_t m = H.shape[0], n = H.shape[1], nch = bounds.shape[0] - 1
    cdef Py_ssize_t ch, c, i, j, b0, b1, pos = 0
    cdef floating fs = <floating>scale, fmom = <floating>momentum
    cdef floating f1 = <floating>(1.0 - rho), frho = <floating>rho
    cdef floating h, q, sg, vt, vv
    cdef floating pmax = <floating>max_pulses
    cdef int64_t wr, nf
    cdef bint enabled
    with nogil:
        for ch in range(nch):
            b0 = bounds[ch]
            b1 = bounds[ch + 1]
            enabled = not (agad and sweeps < half_period)
            wr = 0
            for c in range(b0, b1):
                j = cols[c]
                for i in range(m):
                    vv = v[c, i]
                    if agad:
                        vt = vv - p_ref[i, j]
                        m_mean[i, j] = f1 * m_mean[i, j] + frho * vv
                    else:
                        vt = vv
                    if chopped:
                        sg = fs * <floating>(c_in[j] * c_out[i])
                    else:
                        sg = fs * <floating>1.0
                    h = H[i, j] + sg * vt
                    if enabled and fabs(h) >= 1.0:
                        q = trunc(h)
                        q = -pmax if q < -pmax else q
                        q = pmax if q > pmax else q
                        counts[i, c] = <int64_t>q
                        H[i, j] = h * fmom
                        wr += 1
                    else:
                        counts[i, c] = 0
                        H[i, j] = h
            writes[ch] = wr
            for c in range(b0, b1):
                flipped[c] = 0
            if in_mode != 0:
                for c in range(b0, b1):
                    j = cols[c]
                    reads_col[j] += 1
                    if in_mode == 1:
                        nf = u[pos] < p_in
                        pos += 1
                    else:
                        nf = reads_col[j] >= half_period
                    if nf:
                        flipped[c] = 1
                        c_in[j] = -c_in[j]
                        reads_col[j] = 0
                        if agad:
                            for i in range(m):
                                p_ref[i, j] = m_mean[i, j]
            out_flips[ch] = 0
            if cols[b0] + (b1 - b0) >= n:      # the chunk reaches column n − 1
                sweeps += 1
                if out_on:
                    nf = 0
                    for i in range(m):
                        if u[pos] < p_out:
                            c_out[i] = -c_out[i]
                            nf += 1
                        pos += 1
                    out_flips[ch] = nf
    return sweeps
