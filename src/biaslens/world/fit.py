"""Fit the default world's Ising parameters to CelebA's label statistics, and read/write them.

Run ``python -m biaslens.world.fit`` to reproduce ``resources/world_celeba.json``
(deterministic: fixed seed, fixed chain count). ``--check`` also draws 100,000 samples
and prints the acceptance numbers (max prevalence / phi error, pairs off by > 0.05).

This module is the world's I/O: the compute lives in :mod:`biaslens.world.ising` and
:mod:`biaslens.world.attributes`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from biaslens.errors import DataError
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.world.attributes import SKIN_VAR, VARIABLES, phi_from_moments
from biaslens.world.ising import IsingModel, fit_moments, gibbs_sample, moments, \
    zero_cell_clauses

__all__ = ["SKIN_VAR", "VARIABLES", "SKIN_PRIOR", "celeba_targets", "fit_celeba",
           "read_stats", "read_params", "write_params", "read_json", "phi_from_moments",
           "params_hash"]


#: Assumed pairwise statistics of darker skin (CelebA has no skin label). The share is
#: the ~15% darker faces of face datasets that the MIT DB-VAE lab describes; the phi
#: values tie pigmentation labels to skin (darker: fewer blond, more black hair, fewer
#: rosy cheeks); every other attribute is uncorrelated with skin type. Pale_Skin and
#: darker skin exclude each other (a hard clause, see ``_skin_clause``).
SKIN_PRIOR: dict[str, Any] = {
    "share": 0.15,
    "phi": {"Blond_Hair": -0.15, "Black_Hair": 0.10, "Rosy_Cheeks": -0.05},
}

_PARAMS_FILE = "world_celeba.json"
_STATS_FILE = "celeba_attribute_stats.json"
FORMAT = "biaslens-world-ising"


def read_stats(path: str | Path | None = None) -> dict:
    """CelebA aggregate label statistics (the packaged copy unless ``path`` is given)."""
    if path is None:
        text = resources.files("biaslens").joinpath("resources", _STATS_FILE).read_text()
        src = f"biaslens/resources/{_STATS_FILE}"
    else:
        src = str(path)
        text = Path(path).read_text()
    try:
        d = json.loads(text)
        if list(d["attributes"]) != list(CELEBA_ATTRIBUTES):
            raise DataError("attributes differ from CelebA's 40 names", path=src,
                            field="attributes")
        for key in ("prevalence", "joint_positive_rate", "n_rows"):
            d[key]  # noqa: B018 - presence check
    except (json.JSONDecodeError, KeyError) as exc:
        raise DataError(f"not a CelebA statistics file ({exc})", path=src) from None
    return d


def celeba_targets(stats: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target means (41,), joint rates (41, 41) and hard clauses for the default world.

    CelebA's prevalences and joint positive rates for the 40 attributes, extended with
    the skin variable from :data:`SKIN_PRIOR`. Clauses are every empty 2×2 cell of the
    data (all have ≥ 70 expected rows under independence) plus darker ⇒ ¬Pale_Skin.
    """
    p40 = np.asarray(stats["prevalence"], dtype=float)
    T40 = np.asarray(stats["joint_positive_rate"], dtype=float)
    v = len(VARIABLES)
    d = v - 1
    q = float(SKIN_PRIOR["share"])
    p = np.append(p40, q)
    T = np.zeros((v, v))
    T[:d, :d] = T40
    sd = np.sqrt(p * (1 - p))
    phi_skin = np.zeros(d)
    for name, r in SKIN_PRIOR["phi"].items():
        phi_skin[CELEBA_ATTRIBUTES.index(name)] = r
    T[d, :d] = T[:d, d] = q * p40 + phi_skin * sd[d] * sd[:d]
    pale = CELEBA_ATTRIBUTES.index("Pale_Skin")
    T[d, pale] = T[pale, d] = 0.0
    T[d, d] = q
    clauses = zero_cell_clauses(p40, T40, int(stats["n_rows"]))
    clauses = np.vstack([clauses, [[pale, 1, d, 1]]])
    return p, T, clauses


def fit_celeba(stats: dict, *, seed: int = 0, n_iter: int = 2000, n_chains: int = 8192
               ) -> dict:
    """Fit the default world and return the JSON-able params document."""
    p, T, clauses = celeba_targets(stats)
    res = fit_moments(p, T, clauses=clauses, n_iter=n_iter, n_chains=n_chains, seed=seed)
    return {
        "format": FORMAT, "version": 1,
        "source": stats.get("source", "CelebA"),
        "source_n_rows": int(stats["n_rows"]),
        "variables": list(VARIABLES),
        "h": res.model.h.tolist(),
        "J": res.model.J.tolist(),
        "clauses": [[VARIABLES[i], int(a), VARIABLES[j], int(b)]
                    for i, a, j, b in res.model.clauses],
        "targets": {"mean": p.tolist(), "joint": T.tolist()},
        "skin_prior": SKIN_PRIOR,
        "fit": {"method": "Boltzmann learning, persistent Gibbs chains, diagonal Newton "
                          "steps, Polyak averaging", **res.to_dict()},
    }


def _model_from_doc(doc: dict, src: str) -> tuple[IsingModel, np.ndarray, np.ndarray]:
    try:
        if doc.get("format") != FORMAT or list(doc["variables"]) != list(VARIABLES):
            raise DataError(f"not a {FORMAT} file for the 41 world variables", path=src)
        ix = {n: i for i, n in enumerate(VARIABLES)}
        clauses = np.array([[ix[a], va, ix[b], vb] for a, va, b, vb in doc["clauses"]],
                           dtype=np.int64).reshape(-1, 4)
        model = IsingModel(np.array(doc["h"]), np.array(doc["J"]), clauses)
        return (model, np.array(doc["targets"]["mean"], dtype=float),
                np.array(doc["targets"]["joint"], dtype=float))
    except (KeyError, ValueError, TypeError) as exc:
        raise DataError(f"bad world params ({exc})", path=src) from None


@lru_cache(maxsize=4)
def _read_params_cached(path: str | None) -> tuple[IsingModel, np.ndarray, np.ndarray, str]:
    if path is None:
        text = resources.files("biaslens").joinpath("resources", _PARAMS_FILE).read_text()
        src = f"biaslens/resources/{_PARAMS_FILE}"
    else:
        text, src = Path(path).read_text(), path
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=src, line=exc.lineno) from None
    model, p, T = _model_from_doc(doc, src)
    return model, p, T, str(doc.get("source", "CelebA"))


def read_params(path: str | Path | None = None
                ) -> tuple[IsingModel, np.ndarray, np.ndarray, str]:
    """The fitted default world: ``(model, target_mean, target_joint, source)``.

    Reads the packaged ``resources/world_celeba.json`` unless ``path`` is given; cached,
    and the returned arrays are copies so callers may modify them.
    """
    model, p, T, src = _read_params_cached(None if path is None else str(path))
    return IsingModel(model.h.copy(), model.J.copy(), model.clauses.copy()), p.copy(), \
        T.copy(), src


def write_params(doc: dict, path: str | Path) -> Path:
    """Write a params document atomically (strict JSON, one-space indent)."""
    from biaslens.io import jsonable, write_text

    return write_text(path, json.dumps(jsonable(doc), indent=1, allow_nan=False) + "\n")


def read_json(path: str | Path) -> dict:
    """Read a world spec JSON file, reporting syntax errors with their line."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None


def params_hash(model: IsingModel) -> str:
    """sha256 of the model's parameters (float64 bytes), for manifests."""
    hsh = hashlib.sha256()
    for a in (model.h, model.J, model.clauses):
        hsh.update(np.ascontiguousarray(a).tobytes())
    return "sha256:" + hsh.hexdigest()


def acceptance(model: IsingModel, mean: np.ndarray, joint: np.ndarray, *, n: int = 100_000,
               seed: int = 1, n_attrs: int = 40) -> dict:
    """Compare ``n`` samples with the targets over the first ``n_attrs`` variables."""
    S = gibbs_sample(model, n, seed=seed, burn_in=100, thin=5)   # as World.sample
    m, M = moments(S)
    k = n_attrs
    err_p = np.abs(m[:k] - mean[:k])
    err_phi = np.abs(phi_from_moments(m, M) - phi_from_moments(mean, joint))[:k, :k]
    iu = np.triu_indices(k, 1)
    worst = int(np.argmax(err_phi[iu]))
    return {"n": n, "seed": seed, "max_prevalence_error": float(err_p.max()),
            "max_phi_error": float(err_phi[iu].max()),
            "worst_pair": [VARIABLES[iu[0][worst]], VARIABLES[iu[1][worst]]],
            "pairs_phi_error_gt_0.05": int((err_phi[iu] > 0.05).sum()),
            "pairs_phi_error_gt_0.02": int((err_phi[iu] > 0.02).sum()),
            "clause_violations": int(model.violations(S).sum()),
            "skin_type_darker_share": float(m[-1])}


def main(argv: list[str] | None = None) -> None:
    """Command line: fit, write the params, optionally print the acceptance check."""
    ap = argparse.ArgumentParser(prog="python -m biaslens.world.fit", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stats", default=None, help="CelebA stats JSON (default: packaged)")
    ap.add_argument("--out", default=None, help="output JSON (default: the packaged file)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--chains", type=int, default=8192)
    ap.add_argument("--check", action="store_true", help="acceptance check on 100k samples")
    args = ap.parse_args(argv)
    stats = read_stats(args.stats)
    doc = fit_celeba(stats, seed=args.seed, n_iter=args.iterations, n_chains=args.chains)
    out = args.out or str(Path(__file__).resolve().parents[1] / "resources" / _PARAMS_FILE)
    if args.check:
        p, T, clauses = celeba_targets(stats)
        model = IsingModel(np.array(doc["h"]), np.array(doc["J"]), clauses)
        doc["acceptance"] = acceptance(model, p, T)
        print(json.dumps(doc["acceptance"], indent=1))
    write_params(doc, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
