"""Worker pools whose processes exit when the process that started them dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from biaslens.data.workers import worker_pool


def _worker_facts() -> tuple[int, bool]:
    return os.getppid(), signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_workers_run_tasks_and_ignore_sigint():
    with worker_pool(2) as pool:
        ppid, ignores_sigint = pool.submit(_worker_facts).result(timeout=60)
    assert ignores_sigint                      # Ctrl-C is the parent's to handle
    assert ppid > 1


def test_initializer_exits_when_the_owner_is_already_gone():
    # a pid that exited: the worker initializer must end the process at once
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    code = ("import sys; from biaslens.data.workers import _die_with_parent; "
            f"_die_with_parent({int(dead.stdout)}); print('survived')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and "survived" not in proc.stdout
