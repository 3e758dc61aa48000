"""Worker processes of a sweep die with the process that started them (layer 6).

``kill -9`` of ``hwsim sweep`` gives its workers no chance to be told, so each worker
arranges its own end when it starts (:func:`die_with_parent`):

* Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through :mod:`ctypes` — the kernel kills
  the worker the moment its parent dies;
* everywhere: a daemon thread that polls every :data:`POLL_S` seconds whether the
  worker was re-parented (``os.getppid()`` changed) or the sweep process is gone, and
  then ends the worker with ``os._exit``.  This also covers a parent that died before
  the ``prctl`` call took effect.

The local pool (:class:`concurrent.futures.ProcessPoolExecutor`) calls it in its
initializer; on the Dask cluster that a sweep starts itself (``--scheduler local``)
every task goes through :func:`owned_call`, which installs it once per worker process
(so a replacement worker gets it too).  Workers of a Dask cluster started by someone
else are theirs and are left alone.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1            # <linux/prctl.h>
POLL_S = 0.5


def _pdeathsig() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a pid reused by another user
        return False
    return True


def _watch(parent: int, ppid: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != ppid or not _alive(parent):
            os._exit(1)


def die_with_parent(parent: int | None = None) -> None:
    """End this process when ``parent`` (default: the current parent) exits."""
    ppid = os.getppid()
    parent = ppid if parent is None else int(parent)
    _pdeathsig()
    if os.getppid() != ppid or not _alive(parent):    # died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, ppid), name="hwsim-parent-watch",
                     daemon=True).start()


_INSTALLED: set = set()


def owned_call(parent: int, fn, *args):
    """``fn(*args)`` in a worker that first arranges to die with ``parent`` (once per
    process): how tasks reach the workers of a Dask cluster the sweep started itself,
    replacement workers included."""
    if parent not in _INSTALLED:
        die_with_parent(parent)
        _INSTALLED.add(parent)
    return fn(*args)
