"""Tiny random-init models and a tiny synthetic cache for the app tests (built once)."""

from __future__ import annotations


import pytest
import torch

@pytest.fixture(autouse=True)
def _one_thread():
    # The test machine is shared; tiny models do not profit from threads.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
