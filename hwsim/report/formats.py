"""Report formats (layer 6): each output format of a report is declared once, here or in
the module that defines it, with :func:`register_format`.

A format is a name, a file name inside the output directory, and a writer
``write(report: dict, path) -> None``.  ``hwsim run`` / ``hwsim replay`` (and
:func:`hwsim.run` / :func:`hwsim.replay`) write the :data:`DEFAULT_FORMATS` unless asked
for others (``--format NAME``, ``formats=(...)``); the CLI's choices and help text are
read from :data:`FORMATS`.  Adding a format = one module that calls
:func:`register_format` (and is imported before the run).

Files are written atomically: each goes to a hidden temporary file first and all are
renamed into place only after every writer succeeded, so an output directory never
holds a half-written report.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from hwsim.errors import ConfigError
from hwsim.report.files import write_csv, write_json
from hwsim.report.nodes import write_nodes_csv
from hwsim.report.text import render_text


@dataclass(frozen=True)
class ReportFormat:
    """One output format: ``write(report, path)`` writes ``report`` to ``path``."""
    name: str
    filename: str
    write: Callable[[dict, str], object]
    description: str


#: every known format, by name (registration order)
FORMATS: dict[str, ReportFormat] = {}
#: formats written when none is asked for (the files every run has always written)
DEFAULT_FORMATS = ("json", "csv")


def register_format(name: str, filename: str, write: Callable[[dict, str], object],
                    description: str) -> ReportFormat:
    """Declare an output format; a second declaration of ``name`` is an error."""
    if name in FORMATS:
        raise ValueError(f"report format '{name}' is already registered")
    fmt = ReportFormat(name, filename, write, description)
    FORMATS[name] = fmt
    return fmt


def _write_text(report: dict, path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(render_text(report))


register_format("json", "report.json", write_json,
                "the whole report, deterministic JSON (sorted keys, round-trip floats)")
register_format("csv", "energy.csv", write_csv,
                "one row per priced ledger row (component, action, attributes, phase)")
register_format("nodes", "nodes.csv", write_nodes_csv,
                "one row per network node: time and energy of its analog, digital and "
                "data-movement ops (hwsim.report.nodes)")
register_format("text", "report.txt", _write_text, "the tables `hwsim run` prints")


def resolve_formats(names: Iterable[str] | None) -> tuple[ReportFormat, ...]:
    """The formats named (default :data:`DEFAULT_FORMATS`); unknown names: ConfigError."""
    names = tuple(DEFAULT_FORMATS if names is None else names)
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown report format(s) {', '.join(unknown)} (known: "
                          f"{', '.join(FORMATS)})", key="format")
    return tuple(FORMATS[n] for n in dict.fromkeys(names))


def write_report(report: dict, out, formats: Iterable[str] | None = None) -> list[str]:
    """Write ``report`` in each format into directory ``out``; the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for fmt in resolve_formats(formats):
            tmp = out / f".{fmt.filename}.partial"
            fmt.write(report, str(tmp))
            staged.append((tmp, out / fmt.filename))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return [str(final) for _, final in staged]
