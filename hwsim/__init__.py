"""hwsim — cycle-level simulator of accelerators that train neural networks with
analog in-memory computing.  See DESIGN.md for the layer table.

The public Python API (:mod:`hwsim.api`)::

    import hwsim
    report = hwsim.run(epochs=1)          # the embedded quickstart
    report.final_accuracy, report.energy_J, report.to_dict()
"""
from hwsim.api import (QUICKSTART, SweepResult, TraceInfo, Validation, describe, expand,
                       generate_trace, load_accelerator, load_experiment, replay, run,
                       schema, sections, sweep, validate)
from hwsim.errors import (BackendError, BuildError, ConfigError, DataError, HwsimError,
                          SimulationError, TraceError, UnitError)
from hwsim.report.formats import FORMATS, ReportFormat, register_format
from hwsim.report.view import Report
from hwsim.version import __version__

__all__ = [
    "__version__",
    # run, replay, traces, sweeps
    "run", "replay", "generate_trace", "sweep", "Report", "TraceInfo", "SweepResult",
    # configs
    "load_experiment", "load_accelerator", "validate", "Validation", "expand",
    "describe", "schema", "sections", "QUICKSTART",
    # report formats
    "FORMATS", "ReportFormat", "register_format",
    # errors
    "HwsimError", "ConfigError", "UnitError", "BuildError", "SimulationError", "TraceError",
    "DataError", "BackendError",
]
