"""The op memo is exact: memoised and plain runs give identical reports, and the fields
the op schema declares value-only (not ``structural``) never change any block's timing."""
import json
from pathlib import Path

import pytest

import hwsim.components  # noqa: F401
from hwsim.config.experiment import ExperimentConfig
from hwsim.config.params import build_section, replace
from hwsim.core import ActionLedger, Clock, Transaction, kinds
from hwsim.report import to_json_text
from hwsim.report.runs import run_report
from hwsim.core.ops import value_fields
from hwsim.training.runner import run_experiment

ROOT = Path(__file__).resolve().parents[2]
ACC = str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml")
VALUE_STATS = value_fields()        # what the memo key leaves out (hwsim.core.ops)


def _cfg(out, algorithm):
    data = {"name": "t", "accelerator": ACC,
            "workload": {"dataset": {"name": "digits", "limit_train": 200, "limit_test": 100},
                         "network": [{"linear": 16, "activation": "sigmoid"}, {"linear": 10}]},
            "training": {"algorithm": algorithm, "lr": 0.1, "batch": 10, "epochs": 1},
            "run": {"seed": 1, "out": str(out), "progress": False}}
    return replace(build_section(ExperimentConfig, data), file=str(ROOT / "configs" / "x.yaml"))


@pytest.mark.parametrize("algorithm", ["sgd", "c-ttv2", "mixed-precision"])
def test_cached_run_equals_uncached_run(tmp_path, algorithm):
    off = tmp_path / "no_cache.yaml"
    off.write_text(Path(ACC).read_text() + "engine: {cache: false}\n")
    cached = run_experiment(_cfg(tmp_path / "on", algorithm))
    plain = run_experiment(replace(_cfg(tmp_path / "off", algorithm), accelerator=str(off)))
    assert plain.hw.cache is None and cached.hw.cache is not None
    assert cached.hw.cache.hits > 0
    assert _strip(run_report(cached)) == _strip(run_report(plain))


def _strip(rep):
    rep = json.loads(to_json_text(rep))
    rep["meta"].pop("config")
    return rep


def _txn(op, n, meta):
    return Transaction(op=op, n=n, route=("x",), meta=meta, item=0, n_total=n)


@pytest.mark.parametrize("kind", sorted(kinds()))
def test_value_statistics_never_change_timing(kind):
    """For every block and every op it takes part in, timing() ignores VALUE_STATS and
    the column index of a column read (the cache key leaves them out)."""
    cls = kinds()[kind]
    geometry = {"Chopper": {"rows": 8, "cols": 8}, "DAC": {"lines": 8}, "ADC": {"lines": 8},
                "PulseGenerator": {"rows": 8, "cols": 8}}.get(kind, {})
    comp = cls("x", cls.Params(), Clock("c", 1e9), ActionLedger(), **geometry)
    base = {"lines_in": 8, "lines_out": 8, "max_pulses": 3, "kind": "add", "bytes": 64}
    for op in cls.OPS:
        small = dict(base, col=0, **{k: 1 for k in VALUE_STATS})
        large = dict(base, col=5, **{k: 7 for k in VALUE_STATS})
        assert comp.timing(_txn(op, 8, small)) == comp.timing(_txn(op, 8, large)), (kind, op)


@pytest.mark.parametrize("kind", sorted(k for k, c in kinds().items() if c.STRUCTURAL_ACCOUNTING))
def test_structural_accounting_ignores_values(kind):
    """Blocks whose ledger rows and statistics the cache re-adds on hits (instead of
    calling account()) record the same actions and statistics whatever the values."""
    cls = kinds()[kind]
    geometry = {"Chopper": {"rows": 8, "cols": 8}, "DAC": {"lines": 8}, "ADC": {"lines": 8}}
    base = {"lines_in": 8, "lines_out": 8, "max_pulses": 3, "kind": "add", "bytes": 64}
    for op in cls.OPS:
        seen = []
        for fill, col in ((1, 0), (7, 5)):
            ledger = ActionLedger()
            comp = cls("x", cls.Params(), Clock("c", 1e9), ledger, **geometry.get(kind, {}))
            comp.account(_txn(op, 8, dict(base, col=col, **{k: fill for k in VALUE_STATS})))
            seen.append((ledger.to_rows(), dict(comp.stats.values)))
        assert seen[0] == seen[1], (kind, op)
        assert seen[0][0], (kind, op)          # it did record something


def test_the_memo_uses_public_methods_only():
    """The memo reaches no private state of the ledger, the hardware or the blocks."""
    src = (ROOT / "hwsim" / "sim" / "memo.py").read_text()
    for private in ("._counts", "._transactions", ".free_at", "._keys"):
        assert private not in src, private
