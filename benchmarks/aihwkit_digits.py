"""aihwkit beside hwsim's aihwkit presets on the digits MLP (issue 16): the measuring stick.

Not part of hwsim and never imported by it.  Two steps, two Pythons:

    python benchmarks/aihwkit_digits.py --export DATA.npz        # hwsim's Python
    AIHWKIT_PYTHON benchmarks/aihwkit_digits.py DATA.npz ALGO [--lr 0.1] [--seed 0]
        [--epochs 5] [--w-bound 0.6] [--weights]                  # aihwkit 1.1.0's Python

The export writes hwsim's digits split (``workload.dataset: digits``: 1438 training, 359
test samples, pixels in [0, 1]) so both sides train and test on the same samples.  The
aihwkit side is what ``configs/presets/aihwkit/digits_<algo>.yaml`` mirror: MLP 64-32-10
with a sigmoid, ``AnalogLinear`` layers (PyTorch init, digital bias),
``build_config(ALGO, SoftBoundsReferenceDevice())`` (ALGO: sgd, ttv2, c-ttv2, agad, mp;
``float``: ``FloatingPointRPUConfig()``), ``AnalogSGD(lr)``, batch 10, cross-entropy,
one thread.  ``--w-bound B`` sets the device's ``w_max = B``, ``w_min = −B`` (default:
the preset's 0.6); ``--weights`` prints each layer's weight spread after every epoch.

Prints one JSON line: algo, lr, seed, w_bound and the test accuracy (%) after each epoch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys


def export(path: str) -> None:
    """hwsim's digits split (the aihwkit SGD preset's data set) into ``path``."""
    import numpy as np
    from pathlib import Path
    sys.path.append(str(Path(__file__).resolve().parents[1]))
    from hwsim.api import load_experiment
    from hwsim.training.runner import prepare
    root = Path(__file__).resolve().parents[1]
    ds = prepare(load_experiment(str(root / "configs/presets/aihwkit/digits_sgd.yaml"))).dataset
    np.savez(path, train_x=ds.train_x, train_y=ds.train_y, test_x=ds.test_x, test_y=ds.test_y)
    print(f"wrote {path}: {len(ds.train_x)} training, {len(ds.test_x)} test samples")


def train(a) -> None:
    for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(v, "1")
    import numpy as np
    import torch
    from torch import nn
    from aihwkit.nn import AnalogLinear, AnalogSequential
    from aihwkit.optim import AnalogSGD
    from aihwkit.simulator.configs import (FloatingPointRPUConfig, SoftBoundsReferenceDevice,
                                           build_config)

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    d = np.load(a.data)
    tensor = lambda k, t: torch.tensor(d[k], dtype=t)            # noqa: E731
    tx, ty = tensor("train_x", torch.float32), tensor("train_y", torch.int64)
    vx, vy = tensor("test_x", torch.float32), tensor("test_y", torch.int64)
    if a.algo == "float":
        cfg = FloatingPointRPUConfig()
    else:
        cfg = build_config(a.algo, SoftBoundsReferenceDevice(w_max=a.w_bound, w_min=-a.w_bound))
    model = AnalogSequential(AnalogLinear(64, 32, bias=True, rpu_config=cfg), nn.Sigmoid(),
                             AnalogLinear(32, 10, bias=True, rpu_config=cfg))
    opt = AnalogSGD(model.parameters(), lr=a.lr)
    opt.regroup_param_groups(model)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    accs = []
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(tx), generator=gen)
        for i in range(0, len(order), 10):
            idx = order[i:i + 10]
            opt.zero_grad()
            loss_fn(model(tx[idx]), ty[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accs.append(round(100 * float((model(vx).argmax(1) == vy).float().mean()), 1))
        if a.weights:
            for name, layer in (("fc1", model[0]), ("fc2", model[2])):
                w = layer.get_weights()[0].numpy()
                print(f"epoch {epoch + 1} {name}: W in [{w.min():.3f}, {w.max():.3f}], "
                      f"std {w.std():.4f}", file=sys.stderr)
    print(json.dumps({"algo": a.algo, "lr": a.lr, "seed": a.seed, "w_bound": a.w_bound,
                      "acc_by_epoch": accs}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", metavar="DATA.npz", help="write hwsim's digits split and stop")
    ap.add_argument("data", nargs="?")
    ap.add_argument("algo", nargs="?", choices=("float", "sgd", "ttv2", "c-ttv2", "agad", "mp"))
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--w-bound", type=float, default=0.6)
    ap.add_argument("--weights", action="store_true")
    a = ap.parse_args()
    if a.export:
        export(a.export)
    elif a.data and a.algo:
        train(a)
    else:
        ap.error("give --export DATA.npz, or DATA.npz and ALGO")


if __name__ == "__main__":
    main()
