# Body of the stochastic-train kernel (pulsed_update.pyx: float64 state,
# pulsed_update32.pyx: float32), written once for the state precision ``real`` of the
# including module, which also binds ``pulse_counts`` (its count kernels, re-exported).
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t, uint8_t
from libc.stdlib cimport malloc, calloc, free
import numpy as np

from pulse_plan_core cimport stochastic_plan_core

cdef uint64_t PHI = 0x9E3779B97F4A7C15ULL


def model_codes():
    """Device model codes of this kernel by name (checked against hwsim.devices.KernelCode)."""
    return kernel_model_codes()


cdef extern from *:
    """
    static inline void hwsim_prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
    """
    void hwsim_prefetch(const void* p) noexcept nogil


cdef inline void prefetch_lines(const void* start, Py_ssize_t nbytes) noexcept nogil:
    """Ask for the cache lines of [start, start + nbytes) (the normal table, below)."""
    cdef const char* c = <const char*>start
    cdef Py_ssize_t k
    for k in range(0, nbytes, 64):
        hwsim_prefetch(c + k)


cdef inline void slot_pulses(Dev* dv, Py_ssize_t i, Py_ssize_t b, Py_ssize_t m, Py_ssize_t n,
                             Py_ssize_t s, const int32_t* centries, int64_t k0, int64_t k1,
                             bint up, uint64_t key) noexcept nogil:
    """One pulse in slot s on devices (i, centries[k0:k1]), all in direction ``up``."""
    cdef int64_t k
    cdef Py_ssize_t j, idx
    cdef uint64_t base_ctr = <uint64_t>((b * m + i) * n) * 64 + <uint64_t>s
    for k in range(k0, k1):
        j = centries[k]
        idx = i * n + j
        one_pulse(dv, idx, up, key, base_ctr + <uint64_t>j * 64)
        if dv.counter != NULL:
            dv.counter[idx] += 1
        if dv.touched != NULL:
            dv.touched[idx] = 1


cdef bint USE_SIMD = hwsim_has_avx512()


def simd(enable=None):
    """Whether the AVX-512 path of the LINEAR-family slot loop is used (CPU permitting);
    ``simd(False)`` forces the scalar loop (tests compare both).  Returns the setting."""
    global USE_SIMD
    if enable is not None:
        USE_SIMD = bool(enable) and hwsim_has_avx512()
        pulse_counts.simd(USE_SIMD)
    return bool(USE_SIMD)


cdef inline void lumped_row(Dev* dv, Py_ssize_t i, Py_ssize_t b, Py_ssize_t m, Py_ssize_t n,
                            const int32_t* tlist, Py_ssize_t t0, Py_ssize_t t1,
                            int32_t* rowcnt, bint up, uint64_t key,
                            int64_t* pulses) noexcept nogil:
    """Lumped steps on devices (i, tlist[t0:t1]) with the counts in rowcnt (then reset)."""
    cdef Py_ssize_t t, j
    cdef int64_t cnt
    for t in range(t0, t1):
        j = tlist[t]
        cnt = rowcnt[j]
        rowcnt[j] = 0
        pulses[0] += cnt
        n_pulses(dv, i * n + j, up, cnt, key, <uint64_t>((b * m + i) * n + j) * 64)


cdef inline void pack_lines_of(const uint64_t* thr, Py_ssize_t nl, int bl, uint64_t key,
                               uint64_t ctr0, uint64_t* out) noexcept nogil:
    """Slot masks of lines l < nl: bit s set when slot s < bl fires, i.e. when the low
    (s even) or high (s odd) 32 bits of word s/2 of line l — rand64(key, ctr0 + 32·l + s/2)
    — are below thr[l].  The comparisons set bits without branching on the data."""
    cdef Py_ssize_t l
    cdef uint64_t mask, h, t
    cdef int p
    if USE_SIMD:
        hwsim_pack_avx512(thr, nl, bl, key, ctr0, out)
        return
    for l in range(nl):
        t = thr[l]
        mask = 0
        if t != 0:
            for p in range((bl + 1) >> 1):
                h = rand64(key, ctr0 + <uint64_t>(32 * l + p))
                mask |= (<uint64_t>((h & 0xFFFFFFFFULL) < t)) << (2 * p)
                if 2 * p + 1 < bl:
                    mask |= (<uint64_t>((h >> 32) < t)) << (2 * p + 1)
        out[l] = mask


def pack_lines(const uint64_t[:, ::1] thr, const int32_t[::1] bl, uint64_t key):
    """Slot masks (B, L) of every line of every sample (test hook of the packing)."""
    cdef Py_ssize_t nb = thr.shape[0], nl = thr.shape[1], b
    out = np.zeros((nb, nl), dtype=np.uint64)
    cdef uint64_t[:, ::1] o = out
    if nl:
        with nogil:
            for b in range(nb):
                pack_lines_of(&thr[b, 0], nl, bl[b], key, <uint64_t>(b * nl) * 32, &o[b, 0])
    return out


def stochastic_update(real[:, ::1] w, const real[:, ::1] dw_up, const real[:, ::1] dw_dn,
                      const real[:, ::1] bmin, const real[:, ::1] bmax,
                      const real[:, ::1] pu, const real[:, ::1] pd,
                      const real[::1] scalars, const real[::1] nodes_up,
                      const real[::1] nodes_dn, const double[::1] table,
                      int64_t[:, ::1] counter,
                      uint8_t[:, ::1] touched, int code, int lumped,
                      const uint64_t[:, ::1] thr_rows, const uint64_t[:, ::1] thr_cols,
                      const int8_t[:, ::1] sign_rows, const int8_t[:, ::1] sign_cols,
                      const int32_t[::1] bl, uint64_t key_rows, uint64_t key_cols,
                      uint64_t key_noise, int strategy, int64_t[:, ::1] stats):
    """Whole mini-batch of stochastic rank-1 updates.  stats (5, B): per sample the
    pulses, row slots fired, column slots fired, active rows and active columns;
    returns the batch totals (pulses, row slots, column slots).  strategy: 0 auto,
    1 row×column popcount pairs, 2 slot by slot (results are identical).

    First every line of every sample is packed into a uint64 slot mask and the active
    columns are listed; phase 1 builds each sample's column lists per slot.  Phase 2
    walks blocks of rows that fit in cache and, inside a block, the samples in order:
    each device still sees its samples and slots in order, and its random words depend
    only on (b, i, j, s), so the result equals the sample-major order of the oracle."""
    cdef Dev dv
    make_dev(&dv, w, dw_up, dw_dn, bmin, bmax, pu, pd, scalars, nodes_up, nodes_dn, table,
             counter, touched, code, lumped)
    cdef Py_ssize_t nb = thr_rows.shape[0], m = w.shape[0], n = w.shape[1]
    cdef int64_t totals[3]
    if thr_rows.shape[1] != m or thr_cols.shape[0] != nb or thr_cols.shape[1] != n or \
            sign_rows.shape[0] != nb or sign_rows.shape[1] != m or sign_cols.shape[0] != nb \
            or sign_cols.shape[1] != n or bl.shape[0] != nb or stats.shape[0] != 5 or \
            stats.shape[1] != nb:
        raise ValueError("stochastic_update: train arrays do not match the array and batch")
    if nb == 0:
        return 0, 0, 0
    _stochastic_core(&dv, nb, m, n, &thr_rows[0, 0], &thr_cols[0, 0], &sign_rows[0, 0],
                     &sign_cols[0, 0], &bl[0], key_rows, key_cols, key_noise, strategy,
                     &stats[0, 0], totals)
    return totals[0], totals[1], totals[2]


def planned_update(real[:, ::1] w, const real[:, ::1] dw_up, const real[:, ::1] dw_dn,
                   const real[:, ::1] bmin, const real[:, ::1] bmax,
                   const real[:, ::1] pu, const real[:, ::1] pd,
                   const real[::1] scalars, const real[::1] nodes_up,
                   const real[::1] nodes_dn, const double[::1] table,
                   int64_t[:, ::1] counter, uint8_t[:, ::1] touched, int code, int lumped,
                   const double[:, ::1] x, const double[:, ::1] d, double lr, double eps,
                   int bl_max, bint fixed_bl, bint update_management, uint64_t key_rows,
                   uint64_t key_cols, uint64_t key_noise, int strategy):
    """The plan of hwsim._ext.pulse_plan.stochastic_plan and :func:`stochastic_update` in
    one call (the trains never leave C): x (B, N), d (B, M).  Returns (clipped samples,
    pulses, row slots, column slots, stats (5, B), BL per sample (B,) int32), or
    (status < 0, …) when x, d or a probability is not finite (then no pulse is applied)."""
    cdef Dev dv
    make_dev(&dv, w, dw_up, dw_dn, bmin, bmax, pu, pd, scalars, nodes_up, nodes_dn, table,
             counter, touched, code, lumped)
    cdef Py_ssize_t nb = x.shape[0], m = w.shape[0], n = w.shape[1]
    if x.shape[1] != n or d.shape[0] != nb or d.shape[1] != m:
        raise ValueError("planned_update: x must be (B, N) and d (B, M) for an M×N array")
    stats = np.zeros((5, nb), np.int64)
    bl = np.zeros(nb, np.int32)
    if nb == 0:
        return 0, 0, 0, 0, stats, bl
    cdef int64_t[:, ::1] st = stats
    cdef int32_t[::1] blv = bl
    cdef int64_t totals[3]
    cdef int64_t clipped
    cdef uint64_t* thr = <uint64_t*>malloc(nb * (m + n) * sizeof(uint64_t))
    cdef int8_t* sgn = <int8_t*>malloc(nb * (m + n) * sizeof(int8_t))
    if thr == NULL or sgn == NULL:
        free(thr); free(sgn)
        raise MemoryError()
    try:
        with nogil:
            clipped = stochastic_plan_core(&x[0, 0], &d[0, 0], nb, n, m, lr, eps, bl_max,
                                           fixed_bl, update_management, thr, thr + nb * m,
                                           sgn, sgn + nb * m, &blv[0])
        if clipped < 0:
            return clipped, 0, 0, 0, stats, bl
        _stochastic_core(&dv, nb, m, n, thr, thr + nb * m, sgn, sgn + nb * m, &blv[0],
                         key_rows, key_cols, key_noise, strategy, &st[0, 0], totals)
    finally:
        free(thr); free(sgn)
    return clipped, totals[0], totals[1], totals[2], stats, bl


cdef int _stochastic_core(Dev* dv, Py_ssize_t nb, Py_ssize_t m, Py_ssize_t n,
                          const uint64_t* thr_rows, const uint64_t* thr_cols,
                          const int8_t* sign_rows, const int8_t* sign_cols, const int32_t* bl,
                          uint64_t key_rows, uint64_t key_cols, uint64_t key_noise,
                          int strategy, int64_t* stats, int64_t* totals) except -1:
    """Body of :func:`stochastic_update` on raw pointers (trains (B, M) / (B, N) in C
    order, stats (5, B)); totals ← (pulses, row slots, column slots)."""
    cdef Py_ssize_t b, i, j, jj, idx, s, k, i0, i1, rb
    cdef uint64_t* rmask = <uint64_t*>malloc(nb * m * sizeof(uint64_t))
    cdef uint64_t* cmask = <uint64_t*>malloc(nb * n * sizeof(uint64_t))
    cdef int32_t* acols = <int32_t*>malloc(nb * n * sizeof(int32_t))
    cdef int32_t* centries = NULL      # column lists per (sample, slot), Σ column slots long
    cdef int64_t* coff = <int64_t*>malloc(nb * 65 * sizeof(int64_t))
    cdef int64_t* nac = <int64_t*>malloc(nb * sizeof(int64_t))
    cdef int64_t* npos = <int64_t*>malloc(nb * sizeof(int64_t))
    cdef int64_t* csplit = <int64_t*>malloc(nb * 64 * sizeof(int64_t))
    cdef uint8_t* use_slots = <uint8_t*>malloc(nb * sizeof(uint8_t))
    cdef int64_t* pulses = <int64_t*>malloc(nb * sizeof(int64_t))
    cdef int32_t* rowcnt = <int32_t*>calloc(n, sizeof(int32_t))
    cdef int32_t* tlist = <int32_t*>malloc(n * sizeof(int32_t))
    cdef Py_ssize_t ntouch, nneg
    cdef int64_t nsr[64]
    cdef int64_t nsc[64]
    cdef uint64_t mk, ri, ctr0
    cdef int64_t nar, ncol, rslots, cslots, slot_cost, cnt, pos = 0, total_cs = 0
    cdef int64_t total_p = 0, total_r = 0, total_c = 0
    cdef int sri
    cdef bint up
    cdef bint simd_linear = USE_SIMD and dv.code == MODEL_LINEAR and not dv.lumped and \
        dv.touched == NULL
    cdef bint lumped = dv.lumped
    cdef uint64_t c0
    if rmask and cmask and acols and tlist and npos and nac:
        with nogil:   # column trains first: their slot count sizes the column lists
            for b in range(nb):
                pack_lines_of(thr_cols + b * n, n, bl[b], key_cols, <uint64_t>(b * n) * 32,
                              cmask + b * n)
                pack_lines_of(thr_rows + b * m, m, bl[b], key_rows, <uint64_t>(b * m) * 32,
                              rmask + b * m)
                # active columns grouped by the sign of x (positive first): inside each
                # group the pulse direction depends on the row only, so the inner loops
                # never branch on data (device order does not matter, devices are
                # independent); one pass, the negative ones parked in tlist meanwhile
                ncol = nneg = cslots = 0
                for j in range(n):
                    mk = cmask[b * n + j]
                    if mk:
                        cslots += popcount64(mk)
                        if sign_cols[b * n + j] > 0:
                            acols[b * n + ncol] = <int32_t>j
                            ncol += 1
                        elif sign_cols[b * n + j] < 0:
                            tlist[nneg] = <int32_t>j
                            nneg += 1
                npos[b] = ncol
                for k in range(nneg):
                    acols[b * n + ncol + k] = tlist[k]
                nac[b] = ncol + nneg
                stats[2 * nb + b] = cslots
                total_cs += cslots
        centries = <int32_t*>malloc((total_cs + 1) * sizeof(int32_t))
    if not (rmask and cmask and acols and centries and coff and nac and use_slots and pulses
            and rowcnt and tlist and npos and csplit):
        free(rmask); free(cmask); free(acols); free(centries); free(coff); free(nac)
        free(use_slots); free(pulses); free(rowcnt); free(tlist); free(npos); free(csplit)
        raise MemoryError()
    with nogil:
        # ---- phase 1: per-sample activity, column lists per slot
        for b in range(nb):
            nar = rslots = 0
            ncol = nac[b]
            pulses[b] = 0
            for s in range(64):
                nsr[s] = 0
                nsc[s] = 0
            for i in range(m):
                mk = rmask[b * m + i]
                if mk:
                    nar += 1
                    rslots += popcount64(mk)
                    while mk:
                        nsr[hwsim_ctz64(mk)] += 1
                        mk &= mk - 1
            for jj in range(ncol):
                mk = cmask[b * n + acols[b * n + jj]]
                while mk:
                    nsc[hwsim_ctz64(mk)] += 1
                    mk &= mk - 1
            slot_cost = 0
            for s in range(64):
                slot_cost += nsr[s] * nsc[s]
                coff[b * 65 + s] = pos
                pos += nsc[s]
                nsc[s] = 0
            coff[b * 65 + 64] = pos
            for jj in range(ncol):
                if jj == npos[b]:
                    for s in range(64):
                        csplit[b * 64 + s] = coff[b * 65 + s] + nsc[s]
                j = acols[b * n + jj]
                mk = cmask[b * n + j]
                while mk:
                    s = hwsim_ctz64(mk)
                    centries[coff[b * 65 + s] + nsc[s]] = <int32_t>j
                    nsc[s] += 1
                    mk &= mk - 1
            if npos[b] == ncol:
                for s in range(64):
                    csplit[b * 64 + s] = coff[b * 65 + s + 1]
            # slot order gives independent devices back to back (no dependency chain
            # between consecutive pulses): preferred unless lumped steps on a dense array
            use_slots[b] = strategy == 2 or (strategy == 0 and (
                not lumped or slot_cost < 2 * nar * ncol))
            stats[1 * nb + b] = rslots
            stats[3 * nb + b] = nar
            stats[4 * nb + b] = ncol
        # ---- phase 2: row blocks that stay in cache, samples in order inside a block
        # the normal table (64 KiB) is read at random by every noisy pulse: ask for all
        # of it now rather than miss on it one gather at a time
        prefetch_lines(dv.table, (<Py_ssize_t>2 << (64 - dv.tshift)) * 8)
        rb = (1 << 18) // (n * 56)
        if rb < 1:
            rb = 1
        i0 = 0
        while i0 < m:
            i1 = i0 + rb if i0 + rb < m else m
            for b in range(nb):
                for i in range(i0, i1):
                    ri = rmask[b * m + i]
                    if ri == 0:
                        continue
                    sri = sign_rows[b * m + i]
                    if use_slots[b] and lumped:
                        # accumulate this row's coincidences, then one lumped step per
                        # device; touched columns listed per sign group (x > 0 from the
                        # front of tlist, x < 0 from the back) for branch-free directions
                        ntouch = 0
                        nneg = 0
                        while ri:
                            s = hwsim_ctz64(ri)
                            ri &= ri - 1
                            for k in range(coff[b * 65 + s], csplit[b * 64 + s]):
                                j = centries[k]
                                if rowcnt[j] == 0:
                                    tlist[ntouch] = <int32_t>j
                                    ntouch += 1
                                rowcnt[j] += 1
                            for k in range(csplit[b * 64 + s], coff[b * 65 + s + 1]):
                                j = centries[k]
                                if rowcnt[j] == 0:
                                    nneg += 1
                                    tlist[n - nneg] = <int32_t>j
                                rowcnt[j] += 1
                        lumped_row(dv, i, b, m, n, tlist, 0, ntouch, rowcnt, sri < 0,
                                   key_noise, &pulses[b])
                        lumped_row(dv, i, b, m, n, tlist, n - nneg, n, rowcnt, sri > 0,
                                   key_noise, &pulses[b])
                        continue
                    if use_slots[b] and simd_linear:      # word of j: mix64(c0 + j·64φ)
                        while ri:
                            s = hwsim_ctz64(ri)
                            ri &= ri - 1
                            c0 = key_noise + (<uint64_t>((b * m + i) * n) * 64 + s + 1) * PHI
                            for k in range(2):      # x > 0 columns, then x < 0 columns
                                up = (sri < 0) if k == 0 else (sri > 0)
                                linear_simd(
                                    dv.w + i * n, (dv.dw_up if up else dv.dw_dn) + i * n,
                                    (dv.pu if up else dv.pd) + i * n, dv.bmin + i * n, dv.bmax
                                    + i * n, dv.counter + i * n if dv.counter != NULL else NULL,
                                    centries, coff[b * 65 + s] if k == 0 else csplit[b * 64 + s],
                                    csplit[b * 64 + s] if k == 0 else coff[b * 65 + s + 1],
                                    1.0 if up else -1.0, dv.sigma, dv.sadd, dv.sslope, c0,
                                    64 * PHI, dv.table, dv.tshift)
                            pulses[b] += coff[b * 65 + s + 1] - coff[b * 65 + s]
                        continue
                    if use_slots[b]:
                        while ri:
                            s = hwsim_ctz64(ri)
                            ri &= ri - 1
                            slot_pulses(dv, i, b, m, n, s, centries, coff[b * 65 + s],
                                        csplit[b * 64 + s], sri < 0, key_noise)
                            slot_pulses(dv, i, b, m, n, s, centries, csplit[b * 64 + s],
                                        coff[b * 65 + s + 1], sri > 0, key_noise)
                            pulses[b] += coff[b * 65 + s + 1] - coff[b * 65 + s]
                        continue
                    for jj in range(nac[b]):
                        j = acols[b * n + jj]
                        mk = ri & cmask[b * n + j]
                        if mk == 0:
                            continue
                        up = (sri < 0) if jj < npos[b] else (sri > 0)
                        idx = i * n + j
                        ctr0 = <uint64_t>((b * m + i) * n + j) * 64
                        cnt = popcount64(mk)
                        pulses[b] += cnt
                        if lumped:
                            n_pulses(dv, idx, up, cnt, key_noise, ctr0)
                        else:
                            while mk:
                                one_pulse(dv, idx, up, key_noise, ctr0 + hwsim_ctz64(mk))
                                mk &= mk - 1
                            if dv.counter != NULL:
                                dv.counter[idx] += cnt
                            if dv.touched != NULL:
                                dv.touched[idx] = 1
            i0 = i1
        for b in range(nb):
            stats[0 * nb + b] = pulses[b]
            total_p += pulses[b]
            total_r += stats[1 * nb + b]
            total_c += stats[2 * nb + b]
    free(rmask); free(cmask); free(acols); free(centries); free(coff); free(nac)
    free(use_slots); free(pulses); free(rowcnt); free(tlist); free(npos); free(csplit)
    totals[0] = total_p
    totals[1] = total_r
    totals[2] = total_c
    return 0
