"""The ``hwsim`` command (layer 7): one module per command, a thin layer over the API.

Every user error (:class:`~hwsim.errors.HwsimError`) is printed as one line
``file:line: key: message`` on stderr with exit status 2 and no traceback.

Each command module declares ``register(subparsers)`` (its subparser, flags and help
text, and ``set_defaults(func=...)``); :mod:`hwsim.cli.main` lists the modules.
Adding a command = one module + one line in :data:`hwsim.cli.main.COMMANDS`.
"""
from hwsim.cli.main import COMMANDS, main, make_parser

__all__ = ["COMMANDS", "main", "make_parser"]
