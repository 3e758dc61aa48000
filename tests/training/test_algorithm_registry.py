"""An algorithm declared only in this module (no other file touched) is accepted by
``hwsim validate``, ``describe``, ``schema``, ``run`` and ``trace generate``; the
registry is the one list of algorithms."""
import json
from pathlib import Path

import pytest

from hwsim.cli import main
from hwsim.config.params import param, section
from hwsim.trace.format import Step, TraceReader
from hwsim.training.algorithms import ALGORITHMS, Algorithm
from hwsim.training.algorithms.analog import AnalogWeights
from hwsim.training.algorithms.base import AnalogParams

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"
NAME = "test-split-sgd"


@pytest.fixture
def split_sgd():
    """Analog SGD whose batch update is ``splits`` pulsed updates of lr/splits each."""

    @section(NAME, "Test-only: analog SGD in several smaller pulsed updates per batch")
    class SplitParams(AnalogParams):
        splits: int = param(2, lo=1, desc="pulsed updates per mini-batch")

    class SplitSGD(Algorithm):
        NAME = "test-split-sgd"
        Params = SplitParams
        ROLES = ("W",)

        def make_backend(self, name, out_features, in_features, init_w):
            self.arrays = getattr(self, "arrays", {})
            arr = self.new_array(name, "W", (out_features, in_features), init_w=init_w)
            self.arrays[name] = arr
            self.backends[name] = AnalogWeights([(arr, 1.0)])
            return self.backends[name]

        def update(self, network, batch_size):
            k = self.params.splits
            for layer in network.analog_layers():
                for _ in range(k):
                    self.arrays[layer.name].pulsed_update(layer.last_input, layer.last_delta,
                                                          self.lr / k)

    assert ALGORITHMS[NAME] is SplitSGD                    # registered by being declared
    yield SplitSGD
    del ALGORITHMS[NAME]


def _experiment(tmp_path, algorithm=NAME, params="{splits: 3}"):
    p = tmp_path / "exp.yaml"
    p.write_text(f"""\
schema_version: 1
accelerator: {ACC}
workload:
  dataset: {{name: digits, limit_train: 20, limit_test: 10}}
  network: [{{linear: 16, activation: sigmoid}}, {{linear: 10}}]
training:
  algorithm: {algorithm}
  batch: 10
  epochs: 1
  params: {params}
run: {{seed: 0, out: {tmp_path / 'run'}, progress: false, checkpoint: false}}
""")
    return p


def test_a_new_algorithm_is_accepted_everywhere(split_sgd, tmp_path, capsys):
    exp = _experiment(tmp_path)
    assert main(["validate", str(exp)]) == 0
    assert NAME in capsys.readouterr().out
    assert main(["describe"]) == 0
    assert NAME in capsys.readouterr().out
    assert main(["describe", NAME]) == 0
    assert "splits" in capsys.readouterr().out
    assert main(["schema", NAME]) == 0
    assert "splits" in json.loads(capsys.readouterr().out)["properties"]
    assert main(["schema", "experiment"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert NAME in schema["properties"]["training"]["properties"]["algorithm"]["enum"]
    trace = tmp_path / "rec.jsonl.gz"
    assert main(["run", str(exp), "--trace", str(trace)]) == 0
    capsys.readouterr()
    gen = tmp_path / "gen.jsonl.gz"
    assert main(["trace", "generate", str(ROOT / "configs" / "networks" / "digits_mlp.yaml"),
                 "--batch", "10", "--steps", "2", "--algorithm", NAME, "--param", "splits=3",
                 "-o", str(gen)]) == 0
    for path in (trace, gen):
        ups = [o for o in TraceReader(path) if not isinstance(o, Step) and o.op == "update"]
        # 2 steps × 2 layers × 3 splits (hand count)
        assert [(o.layer, o.role) for o in ups] == [("fc1", "W")] * 3 + [("fc2", "W")] * 3 \
            + [("fc1", "W")] * 3 + [("fc2", "W")] * 3


def test_unknown_algorithm_names_file_line_and_key(tmp_path, capsys):
    exp = _experiment(tmp_path, algorithm="nope", params="{}")
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    # line 7 of the file written above holds `algorithm: nope`
    assert f"{exp}:7" in err and "training.algorithm" in err and "c-ttv2" in err, err


def test_a_second_declaration_of_a_name_is_an_error():
    with pytest.raises(ValueError, match="declared twice"):
        class Again(Algorithm):        # noqa: F841
            NAME = "sgd"
            Params = ALGORITHMS["sgd"].Params
    assert ALGORITHMS["sgd"].__name__ == "AnalogSGD"
