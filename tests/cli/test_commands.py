"""hwsim describe / schema / graph / validate --expand through the real CLI."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hwsim.cli import main, make_parser

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


def _subparsers(parser):
    """Every (command name, parser) reachable from ``parser``, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, p in _subparsers(sub):
                    yield f"{name} {inner}", p


def test_every_flag_and_argument_has_help_text():
    missing = []
    for name, sub in _subparsers(make_parser()):
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip():
                missing.append(f"hwsim {name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "no help text: " + ", ".join(missing)
    # the trace generator's help names only what exists (it once pointed to --help-model)
    trace = dict(_subparsers(make_parser()))["trace generate"]
    assert "--help-model" not in trace.format_help() and "input_sparsity" in trace.format_help()


@pytest.mark.parametrize("acc", sorted((ROOT / "configs" / "accelerators").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_validate_expand_output_validates_again(acc, tmp_path, capsys):
    """The explicit form printed by --expand is an accelerator that builds the same machine,
    and expanding it again gives the same document (a fixed point)."""
    assert main(["validate", str(acc), "--set", "tile.count=3", "--expand"]) == 0
    first = capsys.readouterr().out
    doc = tmp_path / "explicit.json"
    doc.write_text(first)
    assert main(["validate", str(acc), "--set", "tile.count=3"]) == 0
    summary = capsys.readouterr().out.split(": valid ")[1]
    assert main(["validate", str(doc)]) == 0
    assert capsys.readouterr().out.split(": valid ")[1] == summary
    assert main(["validate", str(doc), "--expand"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["components"] == json.loads(first)["components"]
    assert again["connections"] == json.loads(first)["connections"]


def test_an_explicit_instance_that_contradicts_the_template_is_rejected(tmp_path, capsys):
    assert main(["validate", ACC, "--set", "tile.count=1", "--expand"]) == 0
    doc = json.loads(capsys.readouterr().out)
    adc = next(c for c in doc["components"] if c["path"] == "chip.tile0.adc")
    adc["params"]["bits"] = adc["params"]["bits"] - 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "chip.tile0.adc" in err and "tile.periphery.adc.bits is 9" in err and err.count("\n") == 1


def test_describe_is_case_insensitive(capsys):
    assert main(["describe", "Tile"]) == 0
    exact = capsys.readouterr().out
    assert main(["describe", "tile"]) == 0 and capsys.readouterr().out == exact
    assert main(["describe", "ADC"]) == 0
    adc = capsys.readouterr().out
    assert main(["describe", "adc"]) == 0 and capsys.readouterr().out == adc
    assert main(["describe", "ACCELERATOR"]) == 0 and "tile" in capsys.readouterr().out


def test_trace_generate_shows_progress(tmp_path, capsys):
    net = ROOT / "configs" / "networks" / "digits_mlp.yaml"
    out = tmp_path / "t.jsonl.gz"
    assert main(["trace", "generate", str(net), "--batch", "10", "--steps", "3",
                 "--algorithm", "sgd", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "3/3" in captured.err and "step" in captured.err     # the tqdm bar on stderr
    assert "wrote" in captured.out and out.is_file()
    assert main(["trace", "generate", str(net), "--batch", "10", "--steps", "3",
                 "--algorithm", "sgd", "-o", str(out), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_run_writes_the_formats_asked_for_and_prints_the_same_text(tmp_path, capsys):
    assert main(["run", "--epochs", "1", "--out", str(tmp_path), "--no-progress",
                 "--format", "json", "--format", "text", "--verbose"]) == 0
    out = capsys.readouterr().out
    # besides the run's own files (checkpoint, run.json identity): the formats asked for
    assert sorted(p.name for p in tmp_path.iterdir()
                  if p.name not in ("checkpoint.pkl", "run.json")) == ["report.json", "report.txt"]
    text = (tmp_path / "report.txt").read_text()
    assert out.startswith(text) and out[len(text):].startswith("\nwrote ")
    assert main(["run", "--epochs", "1", "--out", str(tmp_path / "n"), "--no-progress",
                 "--format", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown report format(s) nope" in err and err.count("\n") == 1
    assert not (tmp_path / "n").exists()          # refused before training


def test_bad_worker_count_is_one_line_exit_2(capsys):
    assert main(["sweep", "sweeps/digits_algorithms.yaml", "--workers", "0"]) == 2
    assert capsys.readouterr().err == "hwsim: error: workers: must be >= 1, got 0\n"
