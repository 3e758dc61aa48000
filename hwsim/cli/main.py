"""The parser of ``hwsim``, built from the command modules, and the entry point."""
from __future__ import annotations

import argparse
import os
import sys
import warnings

from hwsim.cli import describe, graph, replay, run, schema, sweep, trace, validate
from hwsim.errors import ConfigWarning, HwsimError
from hwsim.fit import command as device

#: The command modules, in ``hwsim --help`` order.  Each declares ``register(subparsers)``
#: (its subparser with ``set_defaults(func=...)``).  To add a command, write a module with
#: ``register`` (here or in its own package, e.g. ``hwsim.fit.command``), import it above
#: and list it here.
COMMANDS = (run, validate, describe, schema, graph, replay, trace, sweep, device)


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwsim", description="Cycle-level simulator of analog "
                                "in-memory training accelerators: accuracy, latency, energy.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def _show_warning(message, category, filename, lineno, file=None, line=None,
                  _default=warnings.showwarning):
    """A :class:`ConfigWarning` as one line ``hwsim: warning: file:line: key: message``."""
    if isinstance(message, ConfigWarning):
        print(f"hwsim: warning: {message.one_line()}", file=sys.stderr)
    else:
        _default(message, category, filename, lineno, file, line)


def main(argv=None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            warnings.simplefilter("always", ConfigWarning)
            return args.func(args)
    except HwsimError as exc:
        print(f"hwsim: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover
        os._exit(0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
