# Body of the count kernels (pulse_counts.pyx: float64 state, pulse_counts32.pyx:
# float32), written once for the state precision ``real`` of the including module.
from libc.math cimport floor
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t, uint8_t
from libc.stdlib cimport malloc, free



cdef bint USE_SIMD = hwsim_has_avx512()


def model_codes():
    """Device model codes of this kernel by name (checked against hwsim.devices.KernelCode)."""
    return kernel_model_codes()


def simd(enable=None):
    """Whether explicit counts use the AVX-512 loop (set through pulsed_update.simd)."""
    global USE_SIMD
    if enable is not None:
        USE_SIMD = bool(enable) and hwsim_has_avx512()
    return bool(USE_SIMD)


def mean_count_update(real[:, ::1] w, const real[:, ::1] dw_up, const real[:, ::1] dw_dn,
                      const real[:, ::1] bmin, const real[:, ::1] bmax,
                      const real[:, ::1] pu, const real[:, ::1] pd,
                      const real[::1] scalars, const real[::1] nodes_up,
                      const real[::1] nodes_dn, const double[::1] table,
                      int64_t[:, ::1] counter,
                      uint8_t[:, ::1] touched, int code, int lumped,
                      const double[:, ::1] row_amp, const double[:, ::1] col_amp,
                      const int8_t[:, ::1] sign_rows, const int8_t[:, ::1] sign_cols,
                      int bl_max, uint64_t key_noise, int64_t[::1] pulses_out):
    """Deterministic trains: n_ij = min(floor(a_i c_j + 0.5), BL_max) pulses per sample."""
    cdef Dev dv
    make_dev(&dv, w, dw_up, dw_dn, bmin, bmax, pu, pd, scalars, nodes_up, nodes_dn, table,
             counter, touched, code, lumped)
    cdef Py_ssize_t nb = row_amp.shape[0], m = w.shape[0], n = w.shape[1], b, i, j
    cdef double a, c
    cdef int64_t cnt, total
    with nogil:
        for b in range(nb):
            total = 0
            for i in range(m):
                a = row_amp[b, i]
                if a == 0.0:
                    continue
                for j in range(n):
                    c = col_amp[b, j]
                    if c == 0.0:
                        continue
                    cnt = <int64_t>floor(a * c + 0.5)
                    if cnt > bl_max:
                        cnt = bl_max
                    if cnt <= 0:
                        continue
                    n_pulses(&dv, i * n + j, sign_rows[b, i] * sign_cols[b, j] < 0, cnt,
                             key_noise, <uint64_t>((b * m + i) * n + j) * 64)
                    total += cnt
            pulses_out[b] = total


def count_update(real[:, ::1] w, const real[:, ::1] dw_up, const real[:, ::1] dw_dn,
                 const real[:, ::1] bmin, const real[:, ::1] bmax,
                 const real[:, ::1] pu, const real[:, ::1] pd,
                 const real[::1] scalars, const real[::1] nodes_up,
                 const real[::1] nodes_dn, const double[::1] table,
                 int64_t[:, ::1] counter,
                 uint8_t[:, ::1] touched, int code, int lumped,
                 const int64_t[:, ::1] counts, uint64_t key_noise, const int64_t[::1] cols):
    """|n_ij| pulses on each device, up for n > 0 (counter (i·N + j)·2³² + k).
    ``cols`` empty: counts is (M, N); else counts is (M, k) for the distinct array
    columns cols (validated by the caller), and only those columns are visited.
    Returns the number of pulses applied."""
    cdef Dev dv
    make_dev(&dv, w, dw_up, dw_dn, bmin, bmax, pu, pd, scalars, nodes_up, nodes_dn, table,
             counter, touched, code, lumped)
    cdef Py_ssize_t m = w.shape[0], n = w.shape[1], nc = counts.shape[1], i, c, j
    cdef bint full = cols.shape[0] == 0
    cdef int64_t cnt, total = 0
    cdef int64_t* idx
    cdef int64_t* val
    cdef int64_t nz = 0
    if USE_SIMD and code == MODEL_LINEAR and not lumped and dv.touched == NULL:
        # list the devices with pulses, then 8 of them per vector step
        idx = <int64_t*>malloc((m * nc + 1) * sizeof(int64_t))
        val = <int64_t*>malloc((m * nc + 1) * sizeof(int64_t))
        if not idx or not val:
            free(idx); free(val)
            raise MemoryError()
        with nogil:
            for i in range(m):
                for c in range(nc):
                    cnt = counts[i, c]
                    if cnt != 0:
                        idx[nz] = i * n + (c if full else cols[c])
                        val[nz] = cnt
                        nz += 1
                        total += cnt if cnt > 0 else -cnt
            counts_linear_simd(dv.w, dv.dw_up, dv.dw_dn, dv.pu, dv.pd, dv.bmin,
                               dv.bmax, dv.counter, idx, val, nz, key_noise,
                               dv.sigma, dv.sadd, dv.sslope, dv.table, dv.tshift)
        free(idx); free(val)
        return total
    with nogil:
        for i in range(m):
            for c in range(nc):
                cnt = counts[i, c]
                if cnt == 0:
                    continue
                j = c if full else cols[c]
                n_pulses(&dv, i * n + j, cnt > 0, cnt if cnt > 0 else -cnt, key_noise,
                         (<uint64_t>(i * n + j)) << 32)
                total += cnt if cnt > 0 else -cnt
    return total
