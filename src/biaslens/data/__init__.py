"""Data layer: sources (CelebA folder, image folder + CSV) -> cache (what training reads).

>>> from biaslens.data import ingest, load_cache          # doctest: +SKIP
>>> cache = ingest("data/celeba", "caches/celeba64", size=64) # doctest: +SKIP
>>> train = cache.subset(split="train")                 # doctest: +SKIP
"""

from biaslens.data.cache import Cache, CacheView, CacheWriter, content_hash, load_cache
from biaslens.data.celeba import read_celeba
from biaslens.data.folder_csv import read_folder_csv
from biaslens.data.images import CELEBA_CROP, load_image, parse_crop
from biaslens.data.ingest import ingest, open_source
from biaslens.data.source import SPLIT_NAMES, SourceTable

__all__ = [
    "Cache", "CacheView", "CacheWriter", "content_hash", "load_cache", "read_celeba",
    "read_folder_csv", "CELEBA_CROP", "load_image", "parse_crop", "ingest", "open_source",
    "SPLIT_NAMES", "SourceTable",
]
