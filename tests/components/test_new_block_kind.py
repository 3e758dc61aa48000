"""A block kind declared only here (no other file touched): a sample-and-hold stage
between a tile and its ADC.  Its one declaration — the class with its params section,
ports, ops and actions, registered by ``@register`` — is enough for ``validate``,
``describe`` and ``schema`` to accept it, for the machine to build it and for the
forward route, derived from the connections, to pass through it."""
import json
from pathlib import Path

import yaml

from hwsim.cli import main
from hwsim.config.accelerator import load_accelerator
from hwsim.config.params import json_schema, param, section
from hwsim.core import Component, inp, out, register
from hwsim.elaborate.graph import build_machine, expand
from hwsim.elaborate.mapping import map_layers
from hwsim.sim.hardware import Hardware

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"


@section("sample_hold", "Sample-and-hold between a tile and its ADC (declared in a test)")
class SampleHoldParams:
    latency: int = param(3, unit="cycles", desc="cycles to settle the held value", lo=0)
    clock: str = param("digital", desc="clock domain this block runs in")


@register
class SampleHold(Component):
    """Sample-and-hold: holds the tile's line currents while the ADC converts them."""
    KIND = "SampleHold"
    Params = SampleHoldParams
    PORTS = (inp("in", "analog_vector", "integrated line currents from the tile"),
             out("out", "analog_vector", "held currents to the ADC bank"))
    ACTIONS = {"hold": "one vector of line currents sampled and held"}
    OPS = ("forward", "backward", "read_column")

    def timing(self, txn):
        return self.params.latency, 1

    def actions(self, txn):
        yield "hold", txn.n_total, {}


def _files(tmp_path):
    """A one-tile c-TTv2 accelerator on one 1 GHz clock, as two files: its compact form,
    and its explicit form with a sample-and-hold inserted between the tile and the ADC."""
    data = yaml.safe_load(ACC.read_text())
    data["clocks"] = {"digital": "1 GHz", "adc": "1 GHz"}
    data["tile"]["count"] = 1
    compact = tmp_path / "compact.yaml"
    compact.write_text(yaml.safe_dump(data))
    exp = json.loads(json.dumps(expand(load_accelerator(str(compact))), default=str))
    exp["components"].append({"path": "chip.tile0.sample_hold", "kind": "SampleHold",
                              "params": {"latency": "3 cycles"}})
    conns = [c for c in exp["connections"] if c != ["chip.tile0.out", "chip.tile0.adc.in"]]
    assert len(conns) == len(exp["connections"]) - 1
    data["components"] = exp["components"]
    data["connections"] = conns + [["chip.tile0.out", "chip.tile0.sample_hold.in"],
                                   ["chip.tile0.sample_hold.out", "chip.tile0.adc.in"]]
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text(yaml.safe_dump(data))
    return compact, explicit


def test_validate_describe_and_schema_accept_the_new_kind(tmp_path, capsys):
    _, explicit = _files(tmp_path)
    assert main(["validate", str(explicit)]) == 0
    assert "valid accelerator" in capsys.readouterr().out
    assert main(["describe"]) == 0
    assert "SampleHold" in capsys.readouterr().out
    assert main(["describe", "SampleHold"]) == 0
    text = capsys.readouterr().out
    assert "latency: int [cycles] = 3" in text and "hold:" in text and "in (in" in text
    assert main(["schema", "accelerator"]) == 0
    comp = json.loads(capsys.readouterr().out)["properties"]["components"]["items"]
    assert comp["properties"]["kind"]["type"] == "string"      # any registered kind
    latency = json.dumps(json_schema(SampleHoldParams)["properties"]["latency"])
    assert '"minimum": 0' in latency and "[cycles]" in latency


def test_the_new_kind_is_built_and_on_the_forward_route(tmp_path):
    _, explicit = _files(tmp_path)
    m = build_machine(load_accelerator(str(explicit)))
    sh = m.components["chip.tile0.sample_hold"]
    assert isinstance(sh, SampleHold) and sh.params.latency == 3
    t = m.tiles[0]
    for op in ("forward", "backward", "read_column"):
        assert t.route(op) == ("chip.tile0.dac", "chip.tile0", "chip.tile0.sample_hold",
                               "chip.tile0.adc")
    assert t.route("update") == ("chip.tile0.pulse_generator", "chip.tile0")


def test_the_new_kind_times_and_records_its_share_of_a_forward(tmp_path):
    """n = 5 forward vectors: the hold stage (L = 3 cycles, II = 1) sits behind the tile
    (II = 40 cycles of integration), so it delays the stream by exactly its latency:
    3 cycles of 1 ns = 3000 ticks (stage formula of DESIGN.md, one clock for all)."""
    ends, holds = [], []
    for f in _files(tmp_path):
        acc = load_accelerator(str(f))
        hw = Hardware(build_machine(acc), map_layers([("L", 8, 8)], ("W",), acc.tile.rows,
                                                     acc.tile.cols, acc.tile.count))
        hw.forward("L", 5)
        ends.append(hw.flush())
        holds.append(hw.machine.ledger.count(path="chip.tile0.sample_hold", action="hold"))
    assert ends[1] - ends[0] == 3 * 1000
    assert holds == [0, 5]


# -- the compact form: a periphery block is one row of the template table --------------
def test_the_periphery_section_is_made_from_the_template_rows():
    """The shipped ``tile.periphery`` has one key per periphery row of BLOCKS (its params
    section, default as the row says) and the periphery's own ``tiles_per_adc_bank``: no
    key is written by hand."""
    from dataclasses import MISSING, fields
    from hwsim.config.accelerator import PeripheryConfig
    from hwsim.config.blocks import BLOCKS
    rows = {b.section.split(".")[-1]: b for b in BLOCKS
            if b.section.startswith("tile.periphery.")}
    got = {f.name: f for f in fields(PeripheryConfig)}
    assert set(got) == set(rows) | {"tiles_per_adc_bank"}
    for key, b in rows.items():
        f = got[key]
        if b.optional:
            assert f.default is None
        else:
            assert f.default is MISSING and isinstance(f.default_factory(), b.params)


def test_a_row_added_to_the_table_is_a_periphery_key(tmp_path):
    """A sample-and-hold row (declared here) gives the periphery a ``sample_hold`` key,
    null by default, read with its declared range, listed by describe's parameter walk
    and the JSON Schema."""
    from hwsim.config.blocks import BLOCKS, Block, periphery_section
    from hwsim.config.params import build_section, iter_params
    from hwsim.errors import ConfigError
    row = Block("sample_hold", "SampleHold", "tile.periphery.sample_hold",
                params=SampleHoldParams, desc="sample-and-hold stage; omit for none",
                optional=True)
    Periphery = periphery_section(BLOCKS + (row,), name="TestPeriphery", module=__name__,
                                  tiles_per_adc_bank=(int, param(1, desc="tiles per bank",
                                                                 lo=1)))
    assert build_section(Periphery, {}, "tile.periphery", None).sample_hold is None
    p = build_section(Periphery, {"sample_hold": {"latency": "5 cycles"}}, "tile.periphery",
                      None)
    assert p.sample_hold == SampleHoldParams(latency=5)
    try:
        build_section(Periphery, {"sample_hold": {"latency": -1}}, "tile.periphery", None)
    except ConfigError as exc:
        assert exc.key == "tile.periphery.sample_hold.latency"
    else:
        raise AssertionError("a latency below its range was accepted")
    names = [n for n, *_ in iter_params(Periphery)]
    # (an optional section is one entry, as chopper and accumulator are)
    assert names.index("accumulator") < names.index("sample_hold") < \
        names.index("tiles_per_adc_bank")
    props = json_schema(Periphery)["properties"]
    assert "sample_hold" in props and list(props)[-1] == "tiles_per_adc_bank"


def test_every_component_module_is_imported_by_the_package():
    """A block kind is its module: importing hwsim.components imports every module of the
    package (no list to extend), so its @register runs."""
    import pkgutil
    import sys
    import hwsim.components as pkg
    for m in pkgutil.iter_modules(pkg.__path__):
        assert f"hwsim.components.{m.name}" in sys.modules
