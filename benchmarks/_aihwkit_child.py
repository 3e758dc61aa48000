"""The aihwkit side of benchmarks/bench_vs_aihwkit.py, run by a Python that has aihwkit.

Not part of hwsim and never imported by it: the parent runs it as

    AIHWKIT_PYTHON benchmarks/_aihwkit_child.py DATA.npz ALGO [--lenet] [--lr LR]
                                                [--seed 0]

DATA.npz holds the parent's training and test samples (``train_x`` (N, 784) or
(N, 1, 28, 28) float32 in [0, 1], ``train_y``, ``test_x``, ``test_y``), so both sides
train on the same samples.  The network is the parent's: MLP 784-256-128-10 with
sigmoids, batch 10; or (``--lenet``) conv 1→16 k5, max-pool 2, conv 16→32 k5, max-pool
2, fc 512→128→10 with tanh, batch 8, 512×512 tiles.  Devices and algorithm:
``build_config(ALGO, SoftBoundsReferenceDevice())``; AnalogSGD; one thread.

Prints one JSON line: {"train_s": wall time of the epoch loop (forward, backward,
update; no set-up, no test), "cpu_s": its CPU time, "setup_s", "test_acc", "loss",
"versions"}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import aihwkit  # noqa: E402
from aihwkit.nn import AnalogConv2d, AnalogLinear, AnalogSequential  # noqa: E402
from aihwkit.optim import AnalogSGD  # noqa: E402

try:                                    # where each aihwkit version keeps them
    from aihwkit.simulator.presets import build_config  # type: ignore
except ImportError:
    from aihwkit.simulator.configs import build_config  # type: ignore
try:
    from aihwkit.simulator.presets import SoftBoundsReferenceDevice  # type: ignore
except ImportError:
    from aihwkit.simulator.configs import SoftBoundsReferenceDevice  # type: ignore


def rpu_config(algo: str, tile: int | None):
    cfg = build_config(algo, SoftBoundsReferenceDevice())
    if tile is not None:
        cfg.mapping.max_input_size = tile
        cfg.mapping.max_output_size = tile
    return cfg


def mlp(cfg) -> nn.Module:
    return AnalogSequential(
        AnalogLinear(784, 256, bias=True, rpu_config=cfg), nn.Sigmoid(),
        AnalogLinear(256, 128, bias=True, rpu_config=cfg), nn.Sigmoid(),
        AnalogLinear(128, 10, bias=True, rpu_config=cfg))


def lenet(cfg) -> nn.Module:
    return AnalogSequential(
        AnalogConv2d(1, 16, kernel_size=5, rpu_config=cfg), nn.Tanh(), nn.MaxPool2d(2),
        AnalogConv2d(16, 32, kernel_size=5, rpu_config=cfg), nn.Tanh(), nn.MaxPool2d(2),
        nn.Flatten(),
        AnalogLinear(512, 128, rpu_config=cfg), nn.Tanh(),
        AnalogLinear(128, 10, rpu_config=cfg))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("algo")
    ap.add_argument("--lenet", action="store_true")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    d = np.load(a.data)
    shape = (-1, 1, 28, 28) if a.lenet else (-1, 784)
    train_x = torch.from_numpy(np.ascontiguousarray(d["train_x"], np.float32)).reshape(shape)
    train_y = torch.from_numpy(d["train_y"].astype(np.int64))
    test_x = torch.from_numpy(np.ascontiguousarray(d["test_x"], np.float32)).reshape(shape)
    test_y = torch.from_numpy(d["test_y"].astype(np.int64))
    batch = 8 if a.lenet else 10

    t0 = time.perf_counter()
    cfg = rpu_config(a.algo, 512 if a.lenet else None)
    model = (lenet if a.lenet else mlp)(cfg)
    opt = AnalogSGD(model.parameters(), lr=a.lr)
    opt.regroup_param_groups(model)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(a.seed))
    setup_s = time.perf_counter() - t0

    model.train()
    total = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(train_x[idx]), train_y[idx])
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    train_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0

    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(test_x[i:i + 500]).argmax(1)
                          for i in range(0, len(test_x), 500)])
    acc = float((pred == test_y).float().mean())
    print(json.dumps({"train_s": train_s, "cpu_s": cpu_s, "setup_s": setup_s, "test_acc": acc,
                      "loss": total / max(len(order), 1), "samples": int(len(order)),
                      "versions": {"aihwkit": aihwkit.__version__, "torch": torch.__version__,
                                   "python": sys.version.split()[0]}}))


if __name__ == "__main__":
    main()
