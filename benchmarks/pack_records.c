/* benchmarks/pack_records.c (issue 17): per-device parameters in separate float32 arrays (SoA, as the kernel) vs one packed
   record per device (AoS {w, dw_up, dw_dn, p_up, p_dn, b_min, b_max, pad}: 32 bytes),
   scalar one_pulse of the LINEAR family with noise, pulses in the kernel's slot order
   (per row, per slot, the active columns ascending).  Alternating rounds, least and
   range of CPU ns per pulse.  Build and run (argument: column density per slot):
       gcc -O3 -ffp-contract=off -o /tmp/pack_records benchmarks/pack_records.c -lm
       /tmp/pack_records 0.3 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#define M 512
#define N 512
#define SLOTS 16
typedef struct { float w, dwu, dwd, pu, pd, lo, hi, pad; } Rec;
static double table[2 * 4096];
static inline uint64_t mix64(uint64_t x) { x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL; return x ^ (x >> 31); }
static inline float normal(uint64_t h) { int k = (int)(h >> 52);
  double f = (double)((h >> 20) & 0xFFFFFFFFULL) * (1.0 / 4294967296.0);
  return (float)(table[2 * k] + f * table[2 * k + 1]); }
static float *w, *dwu, *dwd, *pu, *pd, *lo, *hi; static Rec *rec;
static int32_t cols[SLOTS][N]; static int ncols[SLOTS]; static int rowsign[M];
static double now(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec; }
static long soa(uint64_t key) { long n = 0;
  for (int i = 0; i < M; i++) for (int s = 0; s < SLOTS; s++) { int up = rowsign[i] > 0;
    for (int k = 0; k < ncols[s]; k++) { int idx = i * N + cols[s][k];
      float wv = w[idx], dev = up ? dwu[idx] : dwd[idx], p = up ? pu[idx] : pd[idx];
      float q = 1.0f - p * wv; if (q < 0) q = 0; float base = dev * q;
      float sd = 0.3f * base + dev * (0.0f + 0.0f * fabsf(wv));
      if (sd > 0) base = base + sd * normal(mix64(key + (uint64_t)(idx * 64 + s + 1) * 0x9E3779B97F4A7C15ULL));
      wv = wv + (up ? 1.0f : -1.0f) * base; wv = wv < lo[idx] ? lo[idx] : wv;
      w[idx] = wv > hi[idx] ? hi[idx] : wv; n++; } } return n; }
static long aos(uint64_t key) { long n = 0;
  for (int i = 0; i < M; i++) for (int s = 0; s < SLOTS; s++) { int up = rowsign[i] > 0;
    for (int k = 0; k < ncols[s]; k++) { int idx = i * N + cols[s][k]; Rec* r = rec + idx;
      float wv = r->w, dev = up ? r->dwu : r->dwd, p = up ? r->pu : r->pd;
      float q = 1.0f - p * wv; if (q < 0) q = 0; float base = dev * q;
      float sd = 0.3f * base + dev * (0.0f + 0.0f * fabsf(wv));
      if (sd > 0) base = base + sd * normal(mix64(key + (uint64_t)(idx * 64 + s + 1) * 0x9E3779B97F4A7C15ULL));
      wv = wv + (up ? 1.0f : -1.0f) * base; wv = wv < r->lo ? r->lo : wv;
      r->w = wv > r->hi ? r->hi : wv; n++; } } return n; }
int main(int argc, char** argv) {
  double dens = argc > 1 ? atof(argv[1]) : 0.3; srand(1);
  for (int k = 0; k < 8192; k++) table[k] = (rand() / (double)RAND_MAX - 0.5) * 1e-3;
  float** a[] = {&w, &dwu, &dwd, &pu, &pd, &lo, &hi};
  for (int t = 0; t < 7; t++) *a[t] = malloc(sizeof(float) * M * N);
  rec = aligned_alloc(64, sizeof(Rec) * M * N);
  for (int idx = 0; idx < M * N; idx++) { w[idx] = 0; dwu[idx] = dwd[idx] = 0.001f;
    pu[idx] = pd[idx] = 1.6f; lo[idx] = -0.6f; hi[idx] = 0.6f;
    rec[idx] = (Rec){0, 0.001f, 0.001f, 1.6f, 1.6f, -0.6f, 0.6f, 0}; }
  for (int s = 0; s < SLOTS; s++) { ncols[s] = 0;
    for (int j = 0; j < N; j++) if (rand() < dens * RAND_MAX) cols[s][ncols[s]++] = j; }
  for (int i = 0; i < M; i++) rowsign[i] = rand() & 1 ? 1 : -1;
  double best[2] = {1e9, 1e9}, worst[2] = {0, 0}; long n = 0;
  for (int r = 0; r < 7; r++) for (int v = 0; v < 2; v++) {
    double t = now(); n = v ? aos(r) : soa(r); t = (now() - t) / n * 1e9;
    if (t < best[v]) best[v] = t; if (t > worst[v]) worst[v] = t; }
  printf("density %.2f, %ld pulses/call: SoA %.2f ns (%.2f-%.2f), packed record %.2f ns (%.2f-%.2f), ratio %.2f\n",
         dens, n, best[0], best[0], worst[0], best[1], best[1], worst[1], best[1] / best[0]);
  return (int)(w[5] + rec[5].w);
}
