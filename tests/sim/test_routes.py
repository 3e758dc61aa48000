"""Routes come from the connection graph; the compact form's expansion wires exactly them;
the explicit form is the same model (round trip) and its missing routes are build errors."""
import json
from pathlib import Path

import pytest
import yaml

from hwsim.config.accelerator import accelerator_from_data, load_accelerator
from hwsim.elaborate.graph import build_machine, expand
from hwsim.elaborate.routes import CHIP_ROUTES, TILE_ROUTES
from hwsim.errors import BuildError

ROOT = Path(__file__).resolve().parents[2]
ACC = ROOT / "configs" / "accelerators" / "cttv2_tile.yaml"


def _acc(**over):
    return load_accelerator(str(ACC), {"tile.count": 2, **over})


def test_compact_routes_are_the_tile_template_by_hand():
    """Expected routes written out by hand from the tile template of DESIGN.md (DAC ->
    array -> ADC for MVMs, pulse generator -> array for updates, the tile's accumulator /
    chopper alone, buffer -> interconnect for transfers); ADC bank shared by 2 tiles."""
    m = build_machine(_acc(**{"tile.periphery.tiles_per_adc_bank": 2}))
    assert m.routes == {"digital": ("chip.digital_unit",),
                        "transfer": ("chip.buffer", "chip.interconnect"),
                        "dram": ("chip.dram",)}
    for i, t in enumerate(m.tiles):
        tile, adc = f"chip.tile{i}", "chip.adc0"
        mvm = (f"{tile}.dac", tile, adc)
        assert t.index == i and t.path == tile
        assert t.routes == {"forward": mvm, "backward": mvm, "read_column": mvm,
                            "update": (f"{tile}.pulse_generator", tile),
                            "serial_write": (tile,),
                            "accumulate": (f"{tile}.accumulator",),
                            "flip": (f"{tile}.chopper",)}


def test_optional_blocks_leave_optional_routes_out():
    m = build_machine(load_accelerator(str(ROOT / "configs/accelerators/rpu_tile.yaml"),
                                       {"tile.count": 1}))
    assert m.tiles[0].route("accumulate") is None and m.tiles[0].route("flip") is None
    assert m.tiles[0].route("forward") == ("chip.tile0.dac", "chip.tile0", "chip.tile0.adc")


@pytest.mark.parametrize("share", [1, 2])
def test_expansion_wires_exactly_what_the_routes_need(share):
    """Every hop of every route is a connection of the expansion, and every connection of
    the expansion is a hop of a route, feeds a route's first block or leaves its last
    one (the data flow into and out of each op), or locates a block of a route (the ADC
    -> accumulator and chopper -> tile links)."""
    cfg = _acc(**{"tile.periphery.tiles_per_adc_bank": share})
    m = build_machine(cfg)
    conns = {(s.rpartition(".")[0], d.rpartition(".")[0]) for s, d in expand(cfg)["connections"]}
    routes = list(m.routes.values()) + [r for t in m.tiles for r in t.routes.values()]
    hops = {h for r in routes for h in zip(r, r[1:])}
    assert hops <= conns
    feeds = {(a, r[0]) for r in routes for a, _ in conns if (a, r[0]) in conns}
    leaves = {(r[-1], b) for r in routes for _, b in conns if (r[-1], b) in conns}
    locate = {(t.route("accumulate")[0].replace("accumulator", "adc") if share == 1
               else "chip.adc0", t.route("accumulate")[0]) for t in m.tiles}
    locate |= {(t.route("flip")[0], t.path) for t in m.tiles}
    assert conns == hops | feeds | leaves | locate


def _explicit_data(cfg_path, count=2, edit=None):
    """The accelerator file with the explicit form of its expansion as components."""
    data = yaml.safe_load(Path(cfg_path).read_text())
    data["tile"]["count"] = count
    exp = json.loads(json.dumps(expand(accelerator_from_data(data, str(cfg_path))), default=str))
    if edit is not None:
        edit(exp)
    data["components"] = exp["components"]
    data["connections"] = exp["connections"]
    return data


def test_explicit_form_of_the_expansion_is_the_same_machine(tmp_path):
    compact = _acc()
    explicit = accelerator_from_data(_explicit_data(ACC), str(ACC))
    a, b = build_machine(compact), build_machine(explicit)
    assert expand(explicit) == json.loads(json.dumps(expand(compact), default=str))
    assert list(a.components) == list(b.components)
    assert {p: c.params for p, c in a.components.items()} == \
        {p: c.params for p, c in b.components.items()}
    assert a.adjacency == b.adjacency and a.routes == b.routes and a.tiles == b.tiles


def test_explicit_form_without_a_needed_route_is_a_build_error():
    # tile 1 without its pulse generator: the port checks pass (tile.pulses is optional),
    # but the tile has no update route
    def edit(exp):
        exp["components"] = [c for c in exp["components"]
                             if c["path"] != "chip.tile1.pulse_generator"]
        exp["connections"] = [c for c in exp["connections"]
                              if not any("chip.tile1.pulse_generator" in e for e in c)]
    data = _explicit_data(ACC, edit=edit)
    with pytest.raises(BuildError) as e:
        build_machine(accelerator_from_data(data, str(ACC)))
    msg = str(e.value)
    assert "chip.tile1" in msg and "'update'" in msg and "PulseGenerator" in msg
    assert e.value.key == "connections" and e.value.file == str(ACC)


def test_explicit_form_tile_count_must_match_and_chip_routes_need_one_block():
    data = _explicit_data(ACC)
    data["tile"]["count"] = 3
    with pytest.raises(BuildError, match="declares 2 Tile components but tile.count is 3"):
        build_machine(accelerator_from_data(data, str(ACC)))
    data = _explicit_data(ACC)
    data["components"].append({"path": "chip.du2", "kind": "DigitalUnit", "params": {}})
    data["connections"] += [["chip.interconnect.out", "chip.du2.in"],
                            ["chip.du2.out", "chip.buffer.in"]]
    with pytest.raises(BuildError, match="needs exactly one DigitalUnit, found 2"):
        build_machine(accelerator_from_data(data, str(ACC)))


def test_route_tables_name_registered_kinds():
    from hwsim.core import kinds
    for table in (TILE_ROUTES, CHIP_ROUTES):
        for op, waypoints in table.items():
            for kind_name, _ in waypoints:
                assert kind_name in kinds(), (op, kind_name)
                if _:
                    assert op in kinds()[kind_name].OPS, (op, kind_name)


def test_every_template_block_has_its_clock_checked_with_file_and_line(tmp_path):
    """The clock check reads the template table: the chopper and accumulator (not checked
    before the table) name their file, line and key like the others."""
    from hwsim.config.blocks import BLOCKS
    from hwsim.errors import ConfigError
    text = ACC.read_text()
    for b in BLOCKS:
        key = b.section.rpartition(".")[2]
        data = yaml.safe_load(text)
        node = data
        for part in b.section.split("."):
            node = node.setdefault(part, {})
        node["clock"] = "rf"
        p = tmp_path / f"{b.name}.yaml"
        p.write_text(yaml.safe_dump(data))
        with pytest.raises(ConfigError) as e:
            load_accelerator(str(p))
        assert e.value.key == f"{b.section}.clock", key
        assert e.value.line is not None and "unknown clock 'rf'" in str(e.value)


def test_a_doubled_connection_in_the_file_is_still_an_error():
    data = _explicit_data(ACC)
    data["connections"].append(["chip.tile0.dac.out", "chip.tile0.in"])
    with pytest.raises(BuildError, match="connected more than once"):
        build_machine(accelerator_from_data(data, str(ACC)))


def test_a_missing_route_is_one_line_naming_file_and_key_from_the_cli(tmp_path, capsys):
    from hwsim.cli import main

    def no_pgen(exp):    # as above: tile 1 without a pulse generator
        exp["components"] = [c for c in exp["components"]
                             if c["path"] != "chip.tile1.pulse_generator"]
        exp["connections"] = [c for c in exp["connections"]
                              if not any("chip.tile1.pulse_generator" in e for e in c)]

    def rewired(exp):    # tile 0's currents go to tile 1's ADC: tile 0's ADC input dangles
        exp["connections"] = [c for c in exp["connections"]
                              if c != ["chip.tile0.out", "chip.tile0.adc.in"]]
        exp["connections"].append(["chip.tile0.out", "chip.tile1.adc.in"])
    for edit, needles in ((no_pgen, ["chip.tile1", "no route for 'update'"]),
                          (rewired, ["chip.tile0.adc.in", "not connected"])):
        p = tmp_path / "explicit.yaml"
        p.write_text(yaml.safe_dump(_explicit_data(ACC, edit=edit)))
        assert main(["validate", str(p)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "explicit.yaml" in err and "connections" in err
        assert all(n in err for n in needles), err
