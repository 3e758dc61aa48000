"""Reports (layer 6): read-only consumers of a run's ledger, statistics and tables.

:func:`build_report` makes a plain dict (latency, energy, area, per-sample figures,
meta); :class:`Report` is its Python view; :func:`render_text` prints it;
:func:`write_report` saves it in the registered formats (:data:`FORMATS`,
:func:`register_format`: report.json, energy.csv, report.txt).
"""
from hwsim.report.files import energy_csv_rows, to_json_text, write_csv, write_json
from hwsim.report.formats import FORMATS, register_format, write_report
from hwsim.report.report import build_report, package_versions
from hwsim.report.text import render_text
from hwsim.report.view import Report

__all__ = ["FORMATS", "Report", "build_report", "energy_csv_rows", "package_versions",
           "register_format", "render_text", "to_json_text", "write_csv", "write_json",
           "write_report"]
