"""Worker process pools that never outlive the process that started them.

A ``ProcessPoolExecutor`` worker blocks on its task queue forever once its parent is
gone, so a ``SIGKILL`` of ``biaslens data ingest`` would leave its decoders running.
Each worker started by :func:`worker_pool` therefore

- asks the Linux kernel to ``SIGKILL`` it when the process that forked it exits
  (``prctl(PR_SET_PDEATHSIG)``; with ``forkserver`` that is the fork server, which
  itself exits as soon as the parent does), and
- runs a watchdog thread that exits the worker when its parent process changes or the
  starting process is gone (every platform; a fraction of a second late), and
- ignores ``SIGINT``: Ctrl-C reaches the whole process group, and the parent alone
  decides what to do (it stops the pool and removes its partial output).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

__all__ = ["WATCH_INTERVAL_S", "mp_context", "pid_alive", "worker_pool"]

#: How often a worker's watchdog checks that its parent is still there.
WATCH_INTERVAL_S = 0.25
_PR_SET_PDEATHSIG = 1                 # from <linux/prctl.h>


def _fork_is_safe() -> bool:
    """fork() is cheapest, but unsafe once torch's thread pools exist, and Python >= 3.12
    warns about forking any multi-threaded process (numpy's BLAS threads included)."""
    return (sys.version_info < (3, 12) and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1 and "torch" not in sys.modules)


def mp_context() -> multiprocessing.context.BaseContext:
    """``fork`` where safe, else ``forkserver`` (the server imports ``__main__`` once,
    workers fork from it; with torch imported that one import is the start-up cost)."""
    return multiprocessing.get_context("fork" if _fork_is_safe() else "forkserver")


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (possibly another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(owner: int, parent: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if os.getppid() != parent or not pid_alive(owner):
            os._exit(1)                # nothing to clean up: workers write no files


def _die_with_parent(owner: int) -> None:
    """Worker initializer: exit when ``owner`` (the process that made the pool) dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    parent = os.getppid()
    if not pid_alive(owner) or parent == 1:   # the owner died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(owner, parent), daemon=True,
                     name="biaslens-parent-watch").start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` processes that exit when this process dies."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp_context(),
                               initializer=_die_with_parent, initargs=(os.getpid(),))
