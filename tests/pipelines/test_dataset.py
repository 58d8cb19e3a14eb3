"""Dataset statistics of a cache: identities make every interval resample people.

The real-size check of issue #17: a CelebA folder with about 30 photos per person (real
JPEG files, ``identity_CelebA.txt``), ingested, then described with and without its
identities. Labels carry a person effect (each person has their own chance of being
e.g. Attractive), as CelebA's do, so the row bootstrap's intervals are too narrow.
"""

from __future__ import annotations

import numpy as np
import pytest

from biaslens.data.celeba import format_table
from biaslens.data.ingest import ingest
from biaslens.names import CELEBA_ATTRIBUTES
from biaslens.pipelines.dataset import cache_stats

PEOPLE, PER = 30, 30


@pytest.fixture(scope="module")
def people_cache(tmp_path_factory, make_celeba):
    root = tmp_path_factory.mktemp("people") / "celeba"
    truth = make_celeba(root, n=PEOPLE * PER, seed=3, per_identity=PER)
    rng = np.random.default_rng(3)
    p = rng.beta(0.6, 0.6, (PEOPLE, len(CELEBA_ATTRIBUTES)))   # each person's own rates
    attrs = rng.random((PEOPLE * PER, len(CELEBA_ATTRIBUTES))) < np.repeat(p, PER, axis=0)
    (root / "list_attr_celeba.txt").write_text(
        format_table(truth["files"], attrs, list(CELEBA_ATTRIBUTES)))
    return ingest(root, root.parent / "cache", size=8, workers=2), truth


def test_thirty_photos_per_person_widen_the_intervals(people_cache):
    cache, truth = people_cache
    assert cache.manifest["identities"]["n_identities"] == PEOPLE
    np.testing.assert_array_equal(cache.identities, truth["identities"])
    kw = dict(target="Attractive", groups=["Male"], n_boot=300, seed=0)
    clus = cache_stats(cache, **kw)
    rows = cache_stats(cache, **kw, clusters=None)
    assert clus.resampling["text"] == f"bootstrap over {PEOPLE} identities (900 images)"
    assert rows.resampling["text"] == "bootstrap over 900 images"
    j = cache.attribute_names.index("Attractive")
    w_rows = rows.prevalence_hi[j] - rows.prevalence_lo[j]
    w_clus = clus.prevalence_hi[j] - clus.prevalence_lo[j]
    assert w_clus > 2.5 * w_rows          # design effect ~ 1 + 29·ICC: sqrt ≈ 3-5 here
    widen = [(c.ci_hi - c.ci_lo) / (r.ci_hi - r.ci_lo) for r, c in zip(rows.top, clus.top)]
    assert np.median(widen) > 2
    # a split selects the identities of its rows
    val = cache_stats(cache, split="val", n_boot=50)
    assert val.resampling["n_rows"] == int((cache.split == 1).sum())
    assert val.resampling["n_units"] == len(np.unique(cache.identities[cache.split == 1]))
