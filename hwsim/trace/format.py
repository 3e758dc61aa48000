"""Training traces on disk: format version 1 (layer 5; documented in ``traces/README.md``).

A trace is a gzip-compressed stream of JSON lines (``.jsonl.gz``; chosen on measured
size and read speed, numbers in ``traces/README.md``)::

    {"format": "hwsim-trace", "version": 1, "network": [...], "batch": B, ...}   header
    ["forward", n, "fc1", "C", "forward", {"sum_gv2": 812.5, ...}]               one op
    ["step", 10]                                                                 end of a mini-batch
    ...
    ["end", {"ops": N, "steps": S, "samples": X, "crc32": c, "stats_seen": {...}}]  footer

``crc32`` is the CRC-32 of every byte (UTF-8, newline included) of the op and step
lines, so a file cut after a whole line (which gzip alone cannot tell) is detected by
the missing footer, and a file whose lines were altered by the checksum.  Floats are
written with ``repr`` (shortest round-trip), so a replay prices the same numbers the
run recorded, bit for bit.

:class:`TraceWriter` streams (nothing is held but the current line) and is atomic: it
writes ``.<name>.partial`` beside the target and renames it on :meth:`close`, so a
crashed run never leaves a half trace under the final name.  :class:`TraceReader`
streams ops and step marks; every defect is a :class:`~hwsim.errors.TraceError`
naming the file and the line.
"""
from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from pathlib import Path
from typing import NamedTuple

from hwsim.core import ops as schema
from hwsim.errors import SimulationError, TraceError
from hwsim.sim.program import PHASES, Op

FORMAT = "hwsim-trace"
VERSION = 1
EXTENSION = ".jsonl.gz"
#: header keys every trace carries
REQUIRED = ("network", "batch", "algorithm", "roles", "source")
LAYER_KEYS = ("name", "kind", "out_features", "in_features", "vectors_per_sample")
#: op kinds whose ``layer`` may name a node that is not an analog layer of the header (the
#: digital nodes of a graph network: add1, enc1.attn.scores, ...)
LAYERLESS = ("digital", "transfer", "move")
class Step(NamedTuple):
    """End of one mini-batch of ``samples`` samples (``index`` counts from 0)."""
    index: int
    samples: int


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def check_header(header: dict, where: str = "<header>") -> dict:
    """Validate a header dict (also used by the writer); returns a normalised copy."""
    if not isinstance(header, dict):
        raise TraceError("trace header must be a JSON object", file=where, line=1)
    missing = [k for k in REQUIRED if k not in header]
    if missing:
        raise TraceError(f"trace header lacks {', '.join(missing)}", file=where, line=1)
    net = header["network"]
    if not isinstance(net, list) or not net:
        raise TraceError("header.network must be a non-empty list of layers", file=where, line=1)
    names = set()
    for i, layer in enumerate(net):
        if not isinstance(layer, dict) or any(k not in layer for k in LAYER_KEYS):
            raise TraceError(f"header.network[{i}] needs keys {', '.join(LAYER_KEYS)}",
                             file=where, line=1)
        for k in ("out_features", "in_features", "vectors_per_sample"):
            v = layer[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise TraceError(f"header.network[{i}].{k}: expected an integer >= 1, got {v!r}",
                                 file=where, line=1)
        if layer["name"] in names:
            raise TraceError(f"header.network: duplicate layer '{layer['name']}'", file=where,
                             line=1)
        names.add(layer["name"])
    roles = header["roles"]
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise TraceError("header.roles must be a non-empty list of array roles", file=where,
                         line=1)
    b = header["batch"]
    if isinstance(b, bool) or not isinstance(b, int) or b < 1:
        raise TraceError(f"header.batch: expected an integer >= 1, got {b!r}", file=where, line=1)
    out = dict(header)
    out["network"] = [{k: layer[k] for k in LAYER_KEYS} | {k: v for k, v in layer.items()
                                                          if k not in LAYER_KEYS}
                      for layer in net]
    return out


class TraceWriter:
    """Stream ops and step marks into a trace file; atomic rename on :meth:`close`."""

    def __init__(self, path, header: dict, *, compresslevel: int = 6):
        self.path = Path(path)
        hdr = dict(header)
        hdr["network"] = [dict(x._asdict()) if hasattr(x, "_asdict") else dict(x)
                          for x in hdr.get("network", [])]
        hdr = check_header(hdr, str(self.path))
        hdr = {"format": FORMAT, "version": VERSION, **hdr}
        hdr.setdefault("statistics", schema.statistics())   # the fields each op kind may carry
        self.header = hdr
        self._layers = {x["name"] for x in hdr["network"]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.partial")
        self._fh = gzip.open(self._tmp, "wt", encoding="utf-8", compresslevel=compresslevel,
                             newline="\n")
        self._fh.write(_dumps(hdr) + "\n")
        self._crc = 0
        self.ops = self.steps = self.samples = 0
        self._seen: dict = {}
        self.closed = False

    def _line(self, obj) -> None:
        if self.closed:
            raise TraceError("trace writer is closed", file=str(self.path))
        text = _dumps(obj) + "\n"
        self._crc = zlib.crc32(text.encode("utf-8"), self._crc)
        self._fh.write(text)

    def record(self, op: Op) -> None:
        """Append one op (the :class:`~hwsim.sim.hardware.Hardware` recorder hook)."""
        if op.layer and op.layer not in self._layers and op.op not in LAYERLESS:
            raise TraceError(f"op '{op.op}' names layer '{op.layer}' that is not in the "
                             f"trace header", file=str(self.path))
        try:
            schema.check(op.op, op.n, op.meta)
        except SimulationError as exc:
            raise TraceError(exc.message, file=str(self.path)) from None
        meta = dict(op.meta)
        self._line([op.op, int(op.n), op.layer, op.role, op.phase, meta])
        seen = self._seen.setdefault(op.op, set())
        seen.update(meta)
        self.ops += 1

    def end_step(self, samples: int) -> None:
        """Mark the end of one mini-batch of ``samples`` samples."""
        self._line(["step", int(samples)])
        self.steps += 1
        self.samples += int(samples)

    def close(self) -> Path:
        """Write the footer and move the file into place; returns the final path."""
        if self.closed:
            return self.path
        footer = {"ops": self.ops, "steps": self.steps, "samples": self.samples,
                  "crc32": self._crc, "stats_seen": {k: sorted(v) for k, v in
                                                     sorted(self._seen.items())}}
        self._fh.write(_dumps(["end", footer]) + "\n")
        self._fh.close()
        os.replace(self._tmp, self.path)
        self.closed = True
        return self.path

    def abort(self) -> None:
        """Drop the partial file (nothing is written under the final name)."""
        if not self.closed:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)
            self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


class TraceReader:
    """Stream a trace: ``header``, then iterate :class:`Op` and :class:`Step` items.

    The footer is checked when iteration ends (op/step counts, CRC-32); a file that
    ends early, is corrupt or is of another format version raises
    :class:`~hwsim.errors.TraceError` with the file and line.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.file = str(self.path)
        if not self.path.is_file():
            raise TraceError("no such trace file", file=self.file)
        self._fh = None
        self.footer = None
        self.header = self._read_header()

    def _open(self):
        try:
            return gzip.open(self.path, "rb")
        except OSError as exc:  # pragma: no cover - open itself rarely fails
            raise TraceError(f"cannot open trace: {exc}", file=self.file) from None

    def _lines(self):
        """(line number, raw bytes) pairs, turning decompression failures into TraceError."""
        fh = self._open()
        self._fh = fh
        lineno = 0
        try:
            while True:
                try:
                    raw = fh.readline()
                except EOFError:
                    raise TraceError(f"trace is truncated (compressed stream ends inside line "
                                     f"{lineno + 1})", file=self.file, line=lineno + 1) from None
                except (OSError, zlib.error) as exc:
                    raise TraceError(f"trace is corrupt near line {lineno + 1}: {exc}",
                                     file=self.file, line=lineno + 1) from None
                if not raw:
                    return
                lineno += 1
                yield lineno, raw
        finally:
            fh.close()

    def _read_header(self) -> dict:
        for lineno, raw in self._lines():
            try:
                hdr = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise TraceError("not an hwsim trace (first line is not a JSON header)",
                                 file=self.file, line=1) from None
            break
        else:
            raise TraceError("trace is empty", file=self.file)
        if not isinstance(hdr, dict) or hdr.get("format") != FORMAT:
            raise TraceError(f"not an hwsim trace (header.format is not '{FORMAT}')",
                             file=self.file, line=1)
        if hdr.get("version") != VERSION:
            raise TraceError(f"trace format version {hdr.get('version')!r} is not supported "
                             f"(this hwsim reads version {VERSION})", file=self.file, line=1)
        return check_header(hdr, self.file)

    @property
    def layers(self) -> list:
        return self.header["network"]

    def bytes_read(self) -> int:
        """Compressed bytes consumed so far (for progress bars)."""
        fh = self._fh
        try:
            return fh.fileobj.tell() if fh is not None and fh.fileobj is not None else 0
        except (ValueError, AttributeError, OSError):
            return 0

    def __iter__(self):
        layers = {x["name"] for x in self.header["network"]}
        crc = ops = steps = samples = 0
        footer = None
        for lineno, raw in self._lines():
            if lineno == 1:
                continue
            if footer is not None:
                raise TraceError("data after the trace footer", file=self.file, line=lineno)
            try:
                item = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise TraceError("corrupt trace line (not JSON)", file=self.file,
                                 line=lineno) from None
            if not isinstance(item, list) or not item:
                raise TraceError("corrupt trace line (expected a JSON array)", file=self.file,
                                 line=lineno)
            tag = item[0]
            if tag == "end":
                footer = item[1] if len(item) == 2 and isinstance(item[1], dict) else None
                if footer is None:
                    raise TraceError("corrupt trace footer", file=self.file, line=lineno)
                continue
            crc = zlib.crc32(raw, crc)
            if tag == "step":
                if len(item) != 2 or not isinstance(item[1], int) or item[1] < 0:
                    raise TraceError("corrupt step mark", file=self.file, line=lineno)
                yield Step(steps, item[1])
                steps += 1
                samples += item[1]
                continue
            yield self._op(item, lineno, layers)
            ops += 1
        if footer is None:
            raise TraceError(f"trace is truncated (no footer after {ops} ops and {steps} "
                             f"steps)", file=self.file)
        want = (footer.get("ops"), footer.get("steps"), footer.get("samples"),
                footer.get("crc32"))
        if want != (ops, steps, samples, crc):
            raise TraceError(f"trace checksum/count mismatch: footer says ops={want[0]} "
                             f"steps={want[1]} samples={want[2]} crc32={want[3]}, file has "
                             f"ops={ops} steps={steps} samples={samples} crc32={crc}",
                             file=self.file)
        self.footer = footer

    def _op(self, item, lineno, layers) -> Op:
        if len(item) != 6 or not schema.issuable(item[0]):
            raise TraceError(f"corrupt op line (unknown op {item[0]!r} or wrong arity)",
                             file=self.file, line=lineno)
        kind, n, layer, role, phase, meta = item
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise TraceError(f"op '{kind}': item count must be an integer >= 1, got {n!r}",
                             file=self.file, line=lineno)
        if not isinstance(meta, dict) or phase not in PHASES or not isinstance(role, str):
            raise TraceError(f"corrupt op line (phase {phase!r}, meta {type(meta).__name__})",
                             file=self.file, line=lineno)
        if layer and layer not in layers and kind not in LAYERLESS:
            raise TraceError(f"op '{kind}' names layer '{layer}' that is not in the trace "
                             f"header", file=self.file, line=lineno)
        bad = [k for k, v in meta.items() if isinstance(v, float) and not math.isfinite(v)]
        if bad:      # JSON admits NaN/Infinity; a statistic must be a number to be priced
            raise TraceError(f"op '{kind}': statistic {bad[0]} is {meta[bad[0]]!r}, not a "
                             f"finite number", file=self.file, line=lineno)
        op = Op(kind, n, layer, role, phase, tuple(sorted(meta.items())))
        try:
            schema.check(kind, n, op.meta)
        except SimulationError as exc:
            raise TraceError(exc.message, file=self.file, line=lineno) from None
        return op

    def steps(self):
        """Yield ``(Step, [ops])`` per mini-batch (memory bounded by one step); ops after
        the last step mark come with ``Step(index, 0)``."""
        ops = []
        last = -1
        for item in self:
            if isinstance(item, Step):
                yield item, ops
                ops, last = [], item.index
            else:
                ops.append(item)
        if ops:
            yield Step(last + 1, 0), ops


def read_header(path) -> dict:
    """Only the validated header of a trace."""
    return TraceReader(path).header
