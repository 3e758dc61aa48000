"""Bad pulse data: exit status 2, one line naming file:line, nothing written."""
import subprocess
import sys

import pytest

from hwsim.cli import main

HEAD = "device,pulse,direction,value\n"


def _rows(n=5, device=0, start=0.0):
    """n up then n down pulses of one device, steps 0.01 (a tiny valid measurement)."""
    out, w, p = [], start, 0
    for d in [1] * n + [-1] * n:
        p += 1
        w += 0.01 * d
        out.append(f"{device},{p},{d},{w:.4f}\n")
    return out


GOOD = _rows(device=0) + _rows(device=1)

# (name, file text, fragments of the error line); line numbers counted in the text
CASES = [
    ("empty file", "", ["data.csv:1:", "empty file"]),
    ("header only", HEAD, ["data.csv:1:", "no data rows"]),
    ("missing column", "device,pulse,value\n0,1,0.1\n", ["data.csv:1:", "direction"]),
    ("non-numeric value", HEAD + "".join(GOOD[:3]) + "0,4,1,high\n" + "".join(GOOD[4:]),
     ["data.csv:5:", "value", "'high'"]),
    ("non-numeric direction", HEAD + "0,1,up,0.01\n" + "".join(GOOD[1:]),
     ["data.csv:2:", "direction"]),
    ("NaN value", HEAD + "".join(GOOD[:6]) + "0,7,-1,nan\n" + "".join(GOOD[7:]),
     ["data.csv:8:", "value", "not finite"]),
    ("bad direction", HEAD + "0,1,2,0.01\n" + "".join(GOOD[1:]), ["data.csv:2:", "+1, -1"]),
    ("unsorted pulses", HEAD + "".join(GOOD[:4]) + "0,2,1,0.05\n" + "".join(GOOD[5:]),
     ["data.csv:6:", "pulse", "increasing"]),
    ("one direction only", HEAD + "".join(r for r in GOOD if r.split(",")[2] == "1"),
     ["data.csv:2:", "-1 (depression)"]),
    ("short row", HEAD + "0,1\n" + "".join(GOOD), ["data.csv:2:", "fields"]),
]


@pytest.mark.parametrize("name,text,frags", CASES, ids=[c[0] for c in CASES])
def test_bad_data_exits_2_naming_the_line(tmp_path, capsys, name, text, frags):
    (tmp_path / "data.csv").write_text(text)
    out = tmp_path / "dev.yaml"
    code = main(["device", "fit", str(tmp_path / "data.csv"), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    for f in frags:
        assert f in err, (f, err)
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "data.csv"]


def test_single_device_with_a_dtod_request(tmp_path, capsys):
    (tmp_path / "data.csv").write_text(HEAD + "".join(_rows(n=8)))
    out = tmp_path / "dev.yaml"
    code = main(["device", "fit", str(tmp_path / "data.csv"), "--dtod", "on", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "data.csv:2: device:" in err and "two devices" in err
    assert not out.exists()
    # without the request one device is fine: spreads are 0 and the YAML says why
    assert main(["device", "fit", str(tmp_path / "data.csv"), "--model", "constant_step",
                 "-o", str(out)]) == 0
    text = out.read_text()
    assert "dw_min_dtod: 0.0\n" in text and "spreads not estimated" in text
    # the hand-made steps are exactly 0.01 (the file rounds to 4 decimals)
    assert "dw_min: 0.01\n" in text


def test_bad_conductance_range_and_missing_file(tmp_path, capsys):
    (tmp_path / "data.csv").write_text(HEAD + "".join(GOOD))
    assert main(["device", "fit", str(tmp_path / "data.csv"), "--conductance", "1 uS:30 ns",
                 "-o", str(tmp_path / "d.yaml")]) == 2
    assert "--conductance" in capsys.readouterr().err
    assert main(["device", "fit", str(tmp_path / "none.csv"), "-o", str(tmp_path / "d.yaml")]) == 2
    assert "none.csv" in capsys.readouterr().err
    assert not (tmp_path / "d.yaml").exists()


def test_no_traceback_through_the_real_command(tmp_path):
    (tmp_path / "data.csv").write_text(HEAD + "0,1,1,oops\n")
    r = subprocess.run([sys.executable, "-c", "import sys; from hwsim.cli import main; "
                        "sys.exit(main(sys.argv[1:]))", "device", "fit", "data.csv", "-o", "d.yaml"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "hwsim: error: data.csv:2: value: expected a number, got 'oops'"
