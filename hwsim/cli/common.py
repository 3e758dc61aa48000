"""Flags and helpers shared by several ``hwsim`` commands."""
from __future__ import annotations

import argparse

from hwsim.report.formats import DEFAULT_FORMATS, FORMATS


def add_set_option(parser: argparse.ArgumentParser, what: str = "a config key") -> None:
    """``--set KEY=VALUE`` (repeatable): dotted-key overrides of the loaded file."""
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override {what} (dotted path, repeatable), e.g. "
                        "--set tile.count=4")


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true",
                        help="do not show the progress bar")


def add_timeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeline", metavar="FILE",
                        help="write a Chrome trace-event timeline (open in Perfetto)")
    parser.add_argument("--vcd", metavar="FILE",
                        help="write the busy signals of every component as VCD")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """``--format NAME`` (repeatable), choices from the report-format registry."""
    parser.add_argument("--format", action="append", dest="formats", metavar="NAME",
                        help="report file format, repeatable (default: "
                        f"{' and '.join(DEFAULT_FORMATS)}); "
                        + "; ".join(f"{f.name}: {f.filename}" for f in FORMATS.values()))


def add_plots_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plots", metavar="DIR",
                        help="write the pictures (training curves, energy, area, latency, "
                        "utilisation) as PNG files into DIR (needs matplotlib)")


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every table instead of the short report")


def full_tables_line(report) -> str:
    """The short report's last line: where the full tables are."""
    txt = [f for f in report.files if f.endswith("report.txt")]
    return "full tables: " + (f"{txt[0]} or --verbose" if txt else
                              "--verbose, or --format text (report.txt)")
