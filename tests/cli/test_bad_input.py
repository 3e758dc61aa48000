"""Bad input through the real CLI: one line naming file:line:key, exit status 2, no traceback."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "configs" / "accelerators" / "cttv2_tile.yaml").read_text()


def hwsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "import sys; from hwsim.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def _variant(tmp_path, old, new, name="acc.yaml"):
    assert old in GOOD, old
    p = tmp_path / name
    p.write_text(GOOD.replace(old, new, 1))
    return p


# (description, replacement old -> new, expected fragments of the one error line)
CASES = [
    ("unknown key", "  cols: 256\n", "  cols: 256\n  colz: 3\n", ["acc.yaml:12:", "tile.colz", "unknown key"]),
    ("wrong type", "bits: 9,", "bits: nine,", ["acc.yaml:18:", "tile.periphery.adc.bits", "integer"]),
    ("out of range", "bits: 9,", "bits: 40,", ["acc.yaml:18:", "tile.periphery.adc.bits", "2–16"]),
    ("bad unit", "integration_time: 40 ns", "integration_time: 40 pJ", ["acc.yaml:13:", "tile.integration_time", "time"]),
    ("unparseable quantity", "integration_time: 40 ns", "integration_time: forty ns", ["acc.yaml:13:", "tile.integration_time"]),
    ("negative size", "  rows: 256\n", "  rows: -256\n", ["acc.yaml:10:", "tile.rows", "1–65536"]),
    ("zero tile count", "  count: 16\n", "  count: 0\n", ["acc.yaml:12:", "tile.count"]),
    ("bad choice", "type: sar", "type: magic", ["acc.yaml:18:", "tile.periphery.adc.type", "sar"]),
    ("unknown clock", "clock: adc,", "clock: rf,", ["acc.yaml:18:", "tile.periphery.adc.clock", "unknown clock"]),
    ("bad frequency", "digital: 1 GHz", "digital: 1 ns", ["acc.yaml:7:", "clocks.digital", "frequency"]),
    ("yaml syntax", "  rows: 256\n", "  rows: [256\n", ["acc.yaml:", "YAML syntax error"]),
    ("duplicate key", "  cols: 256\n", "  cols: 256\n  cols: 128\n", ["acc.yaml:12:", "duplicate key"]),
    ("missing device file", "device: reram_softbounds", "device: nodevice.yaml", ["nodevice.yaml", "not found"]),
    ("unknown technology", "technology: 32nm_isaac", "technology: 3nm_dreams", ["3nm_dreams"]),
    ("wrong schema version", "schema_version: 1", "schema_version: 7", ["acc.yaml:3:", "schema_version"]),
    ("dangling port", "interconnect: {", "components:\n  - {path: chip.extra, kind: ADC, params: {}}\ninterconnect: {",
     ["chip.extra.in", "not connected"]),
    ("connection to unknown port", "interconnect: {",
     "connections:\n  - [chip.tile0.adc.sideways, chip.interconnect.in]\ninterconnect: {", ["sideways", "no port"]),
]


@pytest.mark.parametrize("desc,old,new,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_accelerator_is_one_line_exit_2(tmp_path, desc, old, new, fragments):
    p = _variant(tmp_path, old, new)
    r = hwsim("validate", str(p))
    assert r.returncode == 2, (desc, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for frag in fragments:
        assert frag in lines[0], (desc, lines[0])


def test_missing_file_and_bad_override(tmp_path):
    r = hwsim("validate", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "nope.yaml" in r.stderr and "not found" in r.stderr
    r = hwsim("validate", str(ROOT / "configs/accelerators/cttv2_tile.yaml"), "--set", "tile.rows=big")
    assert r.returncode == 2 and "tile.rows" in r.stderr and "Traceback" not in r.stderr


def test_good_file_validates():
    r = hwsim("validate", str(ROOT / "configs/accelerators/cttv2_tile.yaml"))
    assert r.returncode == 0, r.stderr
    assert "16 tiles of 256×256" in r.stdout
