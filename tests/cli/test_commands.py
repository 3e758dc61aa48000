"""hwsim describe / schema / graph / validate --expand through the real CLI."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACC = str(ROOT / "configs" / "accelerators" / "cttv2_tile.yaml")


def hwsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "import sys; from hwsim.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def test_describe_lists_kinds_and_a_kind_has_units_defaults_ranges():
    r = hwsim("describe")
    assert r.returncode == 0
    for kind in ("ADC", "DAC", "Tile", "PulseGenerator", "Chopper", "DigitalAccumulator",
                 "Buffer", "DigitalUnit", "Interconnect"):
        assert kind in r.stdout
    r = hwsim("describe", "Tile")
    assert r.returncode == 0
    assert "integration_time: float [s] = 40 ns" in r.stdout
    assert "actions:" in r.stdout and "read_cell" in r.stdout
    assert hwsim("describe", "Nope").returncode == 2


def test_schema_is_json_schema_with_ranges(tmp_path):
    out = tmp_path / "s.json"
    r = hwsim("schema", "accelerator", "-o", str(out))
    assert r.returncode == 0
    s = json.loads(out.read_text())
    adc = s["properties"]["tile"]["properties"]["periphery"]["properties"]["adc"]
    assert adc["properties"]["bits"]["minimum"] == 2 and adc["properties"]["bits"]["maximum"] == 16
    assert adc["additionalProperties"] is False


def test_graph_has_every_component_and_connection(tmp_path):
    out = tmp_path / "a.dot"
    r = hwsim("graph", ACC, "--set", "tile.count=2", "-o", str(out))
    assert r.returncode == 0, r.stderr
    dot = out.read_text()
    r = hwsim("validate", ACC, "--set", "tile.count=2", "--expand")
    explicit = json.loads(r.stdout)
    for c in explicit["components"]:
        assert f'"{c["path"]}" [label=' in dot
    assert dot.count(" -> ") == len(explicit["connections"])
