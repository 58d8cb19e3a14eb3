"""biaslens.world: the synthetic face world, the embedded default dataset.

:class:`World` samples CelebA-calibrated attribute labels, skin tone and skin-type group,
and reports its own truth (:class:`TruthTable`); :func:`render_faces` draws them;
:func:`synthesize_cache` / :func:`export_celeba` write datasets. See ``docs/world.md``
and ``docs/rendering.md``.
"""

from biaslens.world.attributes import PRESETS, TruthTable, World, WorldSample
from biaslens.world.nonface import render_nonfaces
from biaslens.world.render import LABEL_ONLY_ATTRIBUTES, RENDERED_ATTRIBUTES, render_faces
from biaslens.world.synth import export_celeba, synthesize_cache

__all__ = [
    "World", "WorldSample", "TruthTable", "PRESETS",
    "render_faces", "render_nonfaces", "RENDERED_ATTRIBUTES", "LABEL_ONLY_ATTRIBUTES",
    "synthesize_cache", "export_celeba",
]
