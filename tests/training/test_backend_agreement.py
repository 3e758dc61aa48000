"""``run.backend: numpy`` is a reference of the Cython backend: the quickstart's report
(accuracy, loss, ticks, ledger, energy) is the same, only the recorded backend differs.

Reference: the Cython run of the same config (issue 14 item 11: the two differed by
5 points of accuracy, because the NumPy twins drew their noise with numpy's
``standard_normal`` instead of the kernels' ziggurat)."""
import copy

import pytest

from hwsim.config.experiment import load_experiment, resolve_path
from hwsim.report.runs import run_report
from hwsim.training.runner import run_experiment


def _report(name, backend, tmp_path):
    cfg = load_experiment(resolve_path(name, None), {
        "run.backend": backend, "training.epochs": 1, "run.progress": False,
        "run.out": str(tmp_path / backend), "run.checkpoint": False, "run.seed": 3,
        "workload.dataset": {"name": "digits", "limit_train": 60, "limit_test": 60}})
    return run_report(run_experiment(cfg))


def _without_backend(report):
    r = copy.deepcopy(report)
    assert r["meta"].pop("backend") in ("cython", "numpy")
    r["meta"]["config"]["experiment"]["run"].pop("backend")
    r["meta"]["config"]["experiment"]["run"].pop("out")
    return r


# quickstart: c-TTv2 (issue 14 item 11); ttv2 and hic also read wide transposed line
# sums and repeat reads (bound management), where the twins once added in another order
@pytest.mark.parametrize("name", ["quickstart.yaml", "digits_ttv2.yaml", "digits_hic.yaml"])
def test_report_equal_on_both_backends(tmp_path, name):
    cy, npy = _report(name, "cython", tmp_path), _report(name, "numpy", tmp_path)
    assert cy["meta"]["backend"] == "cython" and npy["meta"]["backend"] == "numpy"
    assert cy["extra"]["training"]["history"][0]["samples"] == 60
    assert _without_backend(cy) == _without_backend(npy)
