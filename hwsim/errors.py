"""Error types (layer 0).

Every user-facing error carries enough context to print one line of the form
``file:line: key.path: message``.  The CLI turns any :class:`HwsimError` into that
line on stderr and exit status 2, without a traceback.
"""
from __future__ import annotations


class HwsimError(Exception):
    """Base of every error hwsim reports to a user (exit status 2)."""

    def __init__(self, message: str, *, file: str | None = None,
                 line: int | None = None, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.key = key

    def one_line(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}".replace("\n", " ")

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.one_line()


class UnitError(HwsimError):
    """A quantity string that cannot be parsed or has the wrong dimension."""


class ConfigError(HwsimError):
    """Bad YAML: unknown key, wrong type, out-of-range value, missing file."""


class BuildError(HwsimError):
    """The accelerator graph cannot be built (dangling or doubly connected ports...)."""


class SimulationError(HwsimError):
    """The simulation reached an inconsistent state (a bug or an impossible request)."""


class TraceError(HwsimError):
    """A trace is corrupt, truncated, of another version or does not fit the accelerator."""


class DataError(HwsimError):
    """A data set file is missing or corrupt."""


class BackendError(HwsimError):
    """The compiled kernels are missing; rebuild with ``pip install .``."""


class ConfigWarning(UserWarning):
    """A setting that runs but does not do what it reads as (a parameter the update
    clips to no effect, a rate that moves only part of the model, a derived value).
    Issued through :func:`warn`; ``hwsim validate`` and ``hwsim run`` print each as one
    line ``hwsim: warning: file:line: key: message`` on stderr, and
    :func:`hwsim.validate` returns them in ``Validation.warnings``."""

    def __init__(self, message: str, *, file: str | None = None,
                 line: int | None = None, key: str | None = None):
        super().__init__(message)
        self.located = HwsimError(message, file=file, line=line, key=key)

    def one_line(self) -> str:
        return self.located.one_line()

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.one_line()


def warn(message: str, *, file: str | None = None, line: int | None = None,
         key: str | None = None) -> None:
    """Issue a :class:`ConfigWarning` (Python's ``warnings`` machinery: filters apply)."""
    import warnings
    warnings.warn(ConfigWarning(message, file=file, line=line, key=key), stacklevel=2)


class NonFiniteError(ValueError):
    """A NaN or inf reached the numbers path (an operand check of the physics or an
    algorithm).  A ValueError for library callers; the runner reports it, during
    training, as a diverging run (one line naming training.lr)."""
