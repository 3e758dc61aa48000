"""A recorded run of a small transformer (the tiny ViT of configs/digits_vit_*.yaml) and
the trace the generator writes for the same network: the same op sequence (kinds,
layers — analog and digital nodes —, roles, phases, meta keys and the data-independent
item counts), for every algorithm, as ``test_generate_all`` shows for layer lists; both
traces replay to the same op-kind counts.
"""
from pathlib import Path

import pytest

from hwsim.api import replay
from hwsim.config.experiment import load_experiment
from hwsim.training.algorithms import ALGORITHMS
from hwsim.training.runner import run_experiment
from hwsim.training.trace_generate import generate_trace

from tests.trace.test_generate_all import BATCH, DATA_N, PARAMS, STEPS, _conditional, _ops

ROOT = Path(__file__).resolve().parents[2]
NET = """\
  - {patches: {size: 4}}
  - {linear: 8, name: embed}
  - {positions: {}}
  - {encoder: {heads: 2, dim: 8, mlp: 16}}
  - {layernorm: {}}
  - {flatten: true}
  - {linear: 10, name: head}
"""
EXPERIMENT = """\
schema_version: 1
name: gen-vs-rec-vit
accelerator: {acc}
workload:
  dataset: {{name: digits, flatten: false, limit_train: {samples}, limit_test: 10}}
  network:
{net}training: {{algorithm: {alg}, lr: 0.1, batch: {batch}, epochs: 1, params: {params}}}
run: {{seed: 0, out: {out}, progress: false, checkpoint: false}}
"""
KINDS = ("matmul", "softmax", "layernorm")


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS) + ["c-ttv2+per-sample", "agad+per-sample"])
def test_transformer_generated_equals_recorded(tmp_path, algorithm):
    params = None
    if algorithm.endswith("+per-sample"):          # chop_per_sample: p ÷ V in both paths
        algorithm = algorithm.split("+")[0]
        params = dict(PARAMS.get(algorithm, {}), chop_per_sample=True)
    acc = ROOT / "configs" / "accelerators" / "cttv2_tile_32.yaml"     # 32 tiles: 8 layers × 3
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT.format(acc=acc, net=NET.replace("  - ", "    - "), alg=algorithm,
                                     samples=BATCH * STEPS, batch=BATCH,
                                     params=params or PARAMS.get(algorithm, {}),
                                     out=tmp_path / "run"))
    run_experiment(load_experiment(str(exp)), trace_path=str(tmp_path / "rec.jsonl.gz"))
    (tmp_path / "net.yaml").write_text("name: vit\ninput_shape: [1, 8, 8]\nnetwork:\n" + NET)
    gen_path = generate_trace(tmp_path / "net.yaml", BATCH, STEPS, algorithm,
                              out=tmp_path / "gen.jsonl.gz", **(params or PARAMS.get(algorithm, {})))
    rec, gen = _ops(tmp_path / "rec.jsonl.gz"), _ops(gen_path)

    def seq(ops):
        return [(o.op, o.layer, o.role, o.phase, tuple(sorted(o.meta_dict())),
                 None if o.op in DATA_N else o.n - o.meta_dict().get("bm_repeats", 0))
                for o in ops if not _conditional(algorithm, o)]
    r, g = seq(rec), seq(gen)
    assert len(r) == len(g) > 0
    for i, (a, b) in enumerate(zip(r, g)):
        assert a == b, (i, a, b)
    kinds = {o.meta_dict().get("kind") for o in rec if o.op == "digital"}
    assert {"matmul", "softmax", "layernorm", "add"} <= kinds
    if algorithm in ("sgd", "c-ttv2"):       # the replays count the same digital work and bytes
        def counts(path):
            rows = replay(str(acc), str(path), progress=False)["energy"]["rows"]
            return {(r["kind"], r["action"], tuple(sorted(r["attrs"].items())), r["phase"]):
                    r["count"] for r in rows
                    if (r["kind"] == "Buffer" and r["action"] != "static") or (
                        r["kind"] == "DigitalUnit" and r["attrs"].get(
                        "function") in KINDS + ("add", "activation", "loss_grad"))}
        cr, cg = counts(tmp_path / "rec.jsonl.gz"), counts(gen_path)
        assert cr == cg and any(k[2] == (("bits", 16), ("function", "matmul")) for k in cr)
