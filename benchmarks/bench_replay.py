"""Trace replay benchmark: encodings, replay ops/s, the ResNet-32 CIFAR-10 epoch, sizes.

Run:  PYTHONPATH=. python benchmarks/bench_replay.py [--quick]

1. Encoding: the same op stream as gzip JSON lines (the shipped format) and as a
   struct-packed, zlib-compressed chunked binary (string table + fixed records);
   size in bytes per op and read time (median of repeats, full decode to Op tuples).
2. Replay speed: ops/s with the op cache and without (first steps of the epoch).
3. The full generated ResNet-32 / CIFAR-10 epoch (50 000 samples, batch 128 -> 391
   steps, analog SGD) on the c-TTv2 tile with 64 tiles: wall time, peak RSS.
4. Trace size per training step of every shipped trace in traces/.
"""
from __future__ import annotations

import json
import os
import resource
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwsim.trace.format import Step, TraceReader  # noqa: E402
from hwsim.training.trace_generate import generate_trace  # noqa: E402
from hwsim.api import replay  # noqa: E402
from functools import partial  # noqa: E402

from _timing import median_time as _median_time  # noqa: E402

ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
NETS = ROOT / "configs" / "networks"



median_time = partial(_median_time, repeats=3)


# -- the alternative encoding: struct-packed records in zlib chunks -------------------
_REC = struct.Struct("<BIHBBH")        # op kind, n, layer id, role id, phase id, n meta


def write_binary(items, path, chunk=4096):
    strings: dict = {}

    def sid(s):
        return strings.setdefault(s, len(strings))

    chunks, buf = [], bytearray()
    for it in items:
        if isinstance(it, Step):
            buf += _REC.pack(255, it.samples, 0, 0, 0, 0)
        else:
            meta = it.meta
            buf += _REC.pack(sid(it.op), it.n, sid(it.layer), sid(it.role), sid(it.phase),
                             len(meta))
            for k, v in meta:
                if isinstance(v, str):
                    buf += struct.pack("<HBH", sid(k), 2, sid(v))
                elif isinstance(v, float):
                    buf += struct.pack("<HBd", sid(k), 1, v)
                else:
                    buf += struct.pack("<HBq", sid(k), 0, v)
        if len(buf) > chunk * 16:
            chunks.append(zlib.compress(bytes(buf), 6))
            buf = bytearray()
    if buf:
        chunks.append(zlib.compress(bytes(buf), 6))
    table = json.dumps(list(strings)).encode()
    with open(path, "wb") as fh:
        fh.write(struct.pack("<I", len(table)) + table)
        for c in chunks:
            fh.write(struct.pack("<I", len(c)) + c)


def read_binary(path):
    data = Path(path).read_bytes()
    (nt,) = struct.unpack_from("<I", data, 0)
    names = json.loads(data[4:4 + nt])
    pos, out = 4 + nt, 0
    while pos < len(data):
        (nc,) = struct.unpack_from("<I", data, pos)
        raw = zlib.decompress(data[pos + 4:pos + 4 + nc])
        pos += 4 + nc
        p = 0
        while p < len(raw):
            kind, n, lay, role, ph, nm = _REC.unpack_from(raw, p)
            p += _REC.size
            meta = []
            for _ in range(nm):
                k, t = struct.unpack_from("<HB", raw, p)
                p += 3
                if t == 2:
                    (v,) = struct.unpack_from("<H", raw, p)
                    v, p = names[v], p + 2
                else:
                    (v,) = struct.unpack_from("<d" if t == 1 else "<q", raw, p)
                    p += 8
                meta.append((names[k], v))
            out += 1 if kind == 255 else 0
            _ = (names[kind] if kind != 255 else None, n, tuple(meta))
    return out


def read_jsonl(path):
    return sum(1 for _ in TraceReader(path))


def encodings(traces):
    print("== 1. encodings (size, full read time; median of 3) ==")
    print(f"{'trace':34s} {'ops':>7s} {'jsonl.gz B/op':>13s} {'binary B/op':>12s} "
          f"{'jsonl read':>11s} {'bin read':>9s}")
    for name, path in traces:
        items = list(TraceReader(path))
        nops = sum(1 for x in items if not isinstance(x, Step))
        with tempfile.TemporaryDirectory() as d:
            b = Path(d) / "t.bin"
            write_binary(items, b)
            tj = median_time(lambda: read_jsonl(path))
            tb = median_time(lambda: read_binary(b))
            sj, sb = os.path.getsize(path), os.path.getsize(b)
        print(f"{name:34s} {nops:7d} {sj / nops:13.2f} {sb / nops:12.2f} "
              f"{tj * 1e6 / nops:8.2f} us {tb * 1e6 / nops:6.2f} us   "
              f"(size ratio bin/jsonl {sb / sj:.2f}, read ratio {tb / tj:.2f})")


def replay_speed(tmp):
    print("== 2. replay speed (generated ResNet-32 SGD, batch 128) ==")
    t = generate_trace(NETS / "resnet32_cifar10.yaml", 128, 4, "sgd", out=tmp / "rn4.jsonl.gz")
    ov = {"tile.count": 64}
    for cache in (False, True):
        t0 = time.perf_counter()
        rep = replay(str(ACC), t, progress=False, cache=cache, overrides=ov)
        dt = time.perf_counter() - t0
        n = rep["extra"]["trace"]["ops_replayed"]
        c = rep["extra"]["trace"]["op_cache"]
        print(f"  cache={cache!s:5s}: {n} ops in {dt:.2f} s = {n / dt:9.0f} ops/s "
              f"(hits {c['hits']}, simulated {c['misses']}), total {rep['latency']['total_s']:.6e} s")


def epoch(tmp):
    print("== 3. ResNet-32 / CIFAR-10 epoch (50 000 samples, batch 128, 391 steps, sgd) ==")
    t0 = time.perf_counter()
    t = generate_trace(NETS / "resnet32_cifar10.yaml", 128, 391, "sgd", samples=50000,
                       out=tmp / "rn_epoch.jsonl.gz")
    tg = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = replay(str(ACC), t, progress=False, overrides={"tile.count": 64})
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = rep["extra"]["trace"]["ops_replayed"]
    c = rep["extra"]["trace"]["op_cache"]
    print(f"  generate: {tg:.2f} s, {os.path.getsize(t)} B; replay: {dt:.2f} s wall for {n} ops "
          f"({n / dt:.0f} ops/s; cache hits {c['hits']}, simulated {c['misses']}); "
          f"peak RSS {rss:.0f} MiB; simulated time {rep['latency']['total_s']:.4f} s, "
          f"energy {rep['energy']['total_J']:.4e} J")


def sizes():
    print("== 4. shipped traces: size per training step ==")
    for p in sorted((ROOT / "traces").glob("*.jsonl.gz")):
        r = TraceReader(p)
        ops = sum(1 for x in r if not isinstance(x, Step))
        steps = max(1, r.footer["steps"])
        size = os.path.getsize(p)
        print(f"  {p.name:36s} {size:9d} B, {r.footer['steps']:4d} steps, {ops:7d} ops: "
              f"{size / steps:9.0f} B/step, {ops / steps:8.0f} ops/step")


def main():
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        traces = [(p.name, p) for p in sorted((ROOT / "traces").glob("*.jsonl.gz"))]
        encodings(traces)
        replay_speed(tmp)
        if not quick:
            epoch(tmp)
    sizes()


if __name__ == "__main__":
    main()
