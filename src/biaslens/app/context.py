"""The sidebar (model and data choice) and the cached loaders every page uses.

Heavy objects (models, caches, the default synthetic data set) are loaded once per
server process with ``st.cache_resource``, keyed by path and modification time, so an
edited checkpoint is reloaded and an unchanged one is not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from torch import nn

from biaslens.errors import BiasLensError
from biaslens.pipelines import inputs

__all__ = ["AppContext", "full_table", "sidebar"]

_DEFAULT = "(shipped default)"
_DEFAULT_DATA = "(synthetic default world)"


def _mtime(path: Path) -> float:
    try:
        return max(p.stat().st_mtime for p in [path, *path.glob("*")])
    except (OSError, ValueError):
        return 0.0


@st.cache_resource(show_spinner="loading model…", max_entries=16)
def _load_model(path: str, mtime: float, role: str) -> nn.Module:
    del mtime  # part of the cache key only
    return inputs.load_for_role(path, role, source=path)


@st.cache_resource(show_spinner="opening data set…", max_entries=4)
def _load_cache(path: str, mtime: float) -> Any:
    del mtime
    return inputs.open_cache(path)


@st.cache_resource(show_spinner="rendering the default synthetic data set (once)…")
def _default_cache(n: int, size: int, seed: int) -> Any:
    return inputs.session_default_cache(n, size=size, seed=seed)


@dataclass
class AppContext:
    """What the user chose in the sidebar; pages ask it for models and data."""

    paths: dict[str, str]  # role -> path, "" = shipped default
    cache_path: str        # "" = synthetic default world

    def model_path(self, role: str) -> Path:
        """The checkpoint path for ``role`` (shipped default when none was given)."""
        return inputs.model_path(self.paths.get(role) or None, role)

    def model(self, role: str) -> nn.Module:
        """The loaded (cached) model for ``role``; a :class:`BiasLensError` if missing."""
        path = self.model_path(role)
        return _load_model(str(path.resolve()), _mtime(path), role)

    def model_key(self, role: str) -> str:
        """A cache key for results computed with ``role``'s model."""
        path = self.model_path(role)
        return f"{path.resolve()}@{_mtime(path)}"

    def cache(self) -> Any:
        """The chosen dataset cache, or the default synthetic one (rendered once)."""
        if self.cache_path:
            p = Path(self.cache_path).expanduser()
            if not p.exists():
                raise BiasLensError(f"{p}: no such cache folder")
            return _load_cache(str(p.resolve()), _mtime(p / "manifest.json"))
        return _default_cache(inputs.DEFAULT_CACHE_N, 64, 0)


#: The roles with a sidebar field (the pages use no other model).
ROLES = ("generator", "classifier", "cvae")
_ROLE_WORDS = {"generator": "the GAN generator", "classifier": "the attribute classifier",
               "cvae": "the conditional VAE"}


def full_table(df: Any, *, column_config: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
    """``st.dataframe`` tall enough for every row (no scroll box of 10 rows), with every
    float column at 3 decimals (0.250, not 0.25, beside 0.123) unless ``column_config``
    says otherwise."""
    floats = {c: st.column_config.NumberColumn(format="%.3f")
              for c in df.columns if df[c].dtype.kind == "f"}
    st.dataframe(df, hide_index=True, height=35 * (len(df) + 1) + 3,
                 column_config={**floats, **(column_config or {})}, **kwargs)


def sidebar() -> AppContext:
    """Draw the model/data choice in the sidebar and return the context."""
    st.sidebar.caption(
        f"By default every page uses the shipped models, trained on a synthetic CelebA-like "
        f"world of rendered cartoon faces, and {inputs.DEFAULT_CACHE_N:,} fresh faces of "
        "that world as the data set (its true attribute statistics are known, so the "
        "audits can be checked against them); a path below replaces a default.")
    st.sidebar.header("Models and data")
    shipped = inputs.shipped_models()
    have = [r for r in ROLES if r in shipped]
    st.sidebar.caption("Leave a path empty to use the shipped default"
                       + (f" ({', '.join(_ROLE_WORDS[r] for r in have)})." if have
                          else " (none is installed)."))
    paths = {}
    for role in ROLES:
        paths[role] = st.sidebar.text_input(
            f"{role} checkpoint", value=os.environ.get(inputs.APP_ENV_VARS[role], ""),
            placeholder=_DEFAULT, key=f"path_{role}",
            help="A biaslens checkpoint folder (config.json + model.safetensors) or a "
                 "course .pth file.").strip()
    cache_path = st.sidebar.text_input(
        "dataset cache", value=os.environ.get(inputs.APP_ENV_VARS["cache"], ""),
        placeholder=_DEFAULT_DATA, key="path_cache",
        help="A cache folder from `biaslens data ingest` or `biaslens data synth`. Empty: "
             f"{inputs.DEFAULT_CACHE_N} faces of the synthetic CelebA-like world.").strip()
    return AppContext(paths=paths, cache_path=cache_path)
