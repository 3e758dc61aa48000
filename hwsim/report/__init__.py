"""Reports (layer 6): read-only consumers of a run's ledger, statistics and tables.

:func:`build_report` makes a plain dict (latency, energy, area, per-sample figures,
meta); :func:`render_text` prints it; :func:`write_json` / :func:`write_csv` save it.
"""
from hwsim.report.files import energy_csv_rows, to_json_text, write_csv, write_json
from hwsim.report.report import build_report, package_versions
from hwsim.report.text import render_text

__all__ = ["build_report", "energy_csv_rows", "package_versions", "render_text", "to_json_text",
           "write_csv", "write_json"]
