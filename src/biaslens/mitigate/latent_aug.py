"""Latent-space de-biasing (Ramaswamy, Kim & Russakovsky, CVPR 2021), docs/algorithms.md §4.

:class:`LatentAugmentation` is the estimator: sample z, generate, hallucinate target and
protected labels with a baseline classifier at F1-fitted thresholds, fit unit-normal
hyperplanes in z-space, and produce pairs ``(G(z), G(z'))`` whose complementary ``z'``
keeps the target score and negates the protected one. :func:`run_latent_aug` is the
pipeline: baseline classifier on real data vs the same recipe on real + paired synthetic
data, both scored with AP / DEO / BA / KL (:func:`biaslens.audit.ramaswamy.ramaswamy_metrics`)
and a paired bootstrap of the change.

>>> aug = LatentAugmentation(target="Smiling", protected="Male").fit(gen, clf)  # doctest: +SKIP
>>> pairs = aug.generate_pairs(1000)                                             # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from biaslens.errors import BiasLensError, DataError
from biaslens.mitigate.latent import (
    ABLATIONS,
    complementary_z,
    complementary_z_domain,
    complementary_z_multi,
    f1_threshold,
    fit_hyperplanes,
)
from biaslens.options import POSITIVE, CheckedOptions, Range, resolve_options
from biaslens.precision import PRECISIONS, resolve_precision
from biaslens.tensors import generate_from_latents, predict_logits, to_uint8_numpy

__all__ = ["CATEGORIES", "PREMISE_MIN_AUC", "LatentAugOptions", "LatentAugResult",
           "LatentAugmentation", "LatentPairs", "category_of", "changes_by_target",
           "classifier_scores", "premise_check", "run_latent_aug", "summarize_by_category"]

#: The paper's attribute categories for protected = Male (docs/algorithms.md §4.8). Taken from
#: memory of the paper (arXiv 2012.01469), not from its repository: check before relying
#: on them. Attributes outside the 26 targets fall into "other".
CATEGORIES: dict[str, tuple[str, ...]] = {
    "inconsistently labelled": ("Big_Lips", "Big_Nose", "Oval_Face", "Pale_Skin",
                                "Straight_Hair", "Wavy_Hair"),
    "gender-dependent": ("Arched_Eyebrows", "Attractive", "Bushy_Eyebrows", "Pointy_Nose",
                         "Receding_Hairline", "Young"),
    "gender-independent": ("Bags_Under_Eyes", "Bangs", "Black_Hair", "Blond_Hair",
                           "Brown_Hair", "Chubby", "Eyeglasses", "Gray_Hair",
                           "High_Cheekbones", "Mouth_Slightly_Open", "Narrow_Eyes",
                           "Smiling", "Wearing_Earrings", "Wearing_Hat"),
}


def category_of(attribute: str) -> str:
    """The §4.8 category of a target attribute, or ``"other"``."""
    for cat, names in CATEGORIES.items():
        if attribute in names:
            return cat
    return "other"


# ---------------------------------------------------------------------------------------
# generation and scoring (batched, no grad)
# ---------------------------------------------------------------------------------------


class _Resized(torch.nn.Module):
    """A classifier that first resizes (antialiased) its input to ``size`` when it differs."""

    def __init__(self, classifier: torch.nn.Module, size: int):
        super().__init__()
        self.classifier, self.size = classifier, size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True,
                              align_corners=False)
        return self.classifier(x)


def classifier_scores(classifier: torch.nn.Module, images: torch.Tensor | np.ndarray,
                      columns: Sequence[int], *, batch_size: int = 256) -> np.ndarray:
    """Sigmoid scores (n, len(columns)) of a classifier on float NCHW or uint8 NHWC images.

    Images are resized (antialiased) to the classifier's ``image_size`` when it differs,
    as the paper reduces real and generated images to 64 px. The classifier runs on its
    own device.
    """
    if len(images) == 0:
        return np.zeros((0, len(columns)))
    dev = next(itertools.chain(classifier.parameters(), classifier.buffers()),
               torch.empty(0)).device
    size = getattr(classifier, "image_size", None)
    net = (_Resized(classifier, size).train(classifier.training) if isinstance(size, int)
           else classifier)
    logits = predict_logits(net, images, batch_size=batch_size, device=dev)
    return torch.sigmoid(torch.from_numpy(logits[:, list(columns)])).numpy()


def _columns(classifier: torch.nn.Module, names: Sequence[str]) -> list[int]:
    from biaslens.names import canonical_name

    have = list(getattr(classifier, "attribute_names", []) or [])
    if not have:
        raise BiasLensError("the classifier has no attribute_names; it must follow the "
                            "attribute-classifier protocol")
    return [have.index(canonical_name(n, have)) for n in names]


# ---------------------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------------------


@dataclass
class LatentPairs:
    """Paired synthetic training data: ``G(z)`` and ``G(z')`` with their labels.

    ``labels`` (n, 1 + m) are ``[t̂(z), ĝ(z)…]`` for ``images``; ``labels_prime`` are
    ``[t̂(z), 1 − ĝ(z)…]`` for ``images_prime`` (the target label is inherited).
    """

    z: np.ndarray
    z_prime: np.ndarray
    images: np.ndarray          # uint8 (n, H, W, 3)
    images_prime: np.ndarray    # uint8 (n, H, W, 3)
    labels: np.ndarray          # bool (n, 1 + m)
    labels_prime: np.ndarray    # bool (n, 1 + m)
    names: list[str]
    premise: dict[str, Any] = field(default_factory=dict)  # see premise_check

    def to_dict(self) -> dict[str, Any]:
        return {"n": int(len(self.z)), "names": self.names,
                "label_rates": self.labels.mean(0).tolist(),
                "label_rates_prime": self.labels_prime.mean(0).tolist(),
                "mean_shift": float(np.linalg.norm(self.z_prime - self.z, axis=1).mean()),
                "premise": self.premise}


#: Below this held-out AUC the target hyperplane separates the labeller's reading of G(z)
#: poorly, so the inherited target labels of G(z') are noisy (docs/mitigation.md §2.7).
PREMISE_MIN_AUC = 0.8


def premise_check(names: Sequence[str], plane_scores: np.ndarray, labels: np.ndarray,
                  labels_prime: np.ndarray, read_prime: np.ndarray) -> dict[str, Any]:
    """How well the method's two assumptions hold on the pairs (fresh z, not the fit's).

    * ``hyperplane_auc``: per name, the AUC of the signed distance ``w^T z + b`` against
      the labeller's reading of ``G(z)``: 1 = the attribute is linear in z, 0.5 = not at
      all (the paper's premise; a low AUC makes ``z'`` keep the *score*, not the attribute).
    * ``prime_agreement``: per name, the share of ``G(z')`` the labeller reads with the
      label the pair gives it (target inherited, protected flipped).
    * ``holds``: the target's AUC >= :data:`PREMISE_MIN_AUC`; ``message`` says why not.
    """
    from biaslens.train.evaluate import rank_auc

    auc = np.atleast_1d(rank_auc(labels, plane_scores))
    agree = (read_prime == labels_prime).mean(0)
    holds = bool(np.isfinite(auc[0]) and auc[0] >= PREMISE_MIN_AUC)
    msg = ("" if holds else
           f"a hyperplane in z separates the labeller's {names[0]} poorly (AUC "
           f"{auc[0]:.2f} on fresh z, below {PREMISE_MIN_AUC}): the generator's latent is "
           f"not linear in {names[0]}, or the labeller reads it poorly. The complementary "
           f"faces keep the {names[0]} score, not the attribute: {agree[0]:.0%} of them are "
           f"read with their inherited {names[0]} label and {np.mean(agree[1:]):.0%} as the "
           f"flipped {'/'.join(names[1:])}, so the added labels are noisy")
    return {"hyperplane_auc": [float(a) for a in auc],
            "prime_agreement": [float(a) for a in agree],
            "min_auc": PREMISE_MIN_AUC, "holds": holds, "message": msg}


class LatentAugmentation:
    """Ramaswamy et al.'s latent augmentation as an estimator (STYLE habit 5).

    Parameters
    ----------
    target : target attribute (a name of the classifier's ``attribute_names``).
    protected : protected attribute, or a list of two (negates both, §4.4 generalised).
    n_fit : latent vectors used to fit the hyperplanes (10,000 in the paper).
    n_aug : default number of pairs for :meth:`generate_pairs` (160,000 in the paper).
    method : ``"svm"`` (LinearSVC, reference) or ``"logistic"``.
    mode : ``"single"`` (§4.4) or ``"domain"`` (domain-dependent target planes, §4.6).
    variant : ``complementary`` or an ablation (``on_hyperplane``, ``perp``,
        ``perp_on_hyperplane``), single mode only.
    batch_size : generator / classifier batch.
    seed : seeds every z draw.

    Attributes (after :meth:`fit`)
    ------------------------------
    w_t_, b_t_, w_g_, b_g_ : unit-normal hyperplanes (``w_g_`` (m, d) with several
        protected attributes; ``w_t_`` (2, d) per group in domain mode).
    thresholds_ : F1 thresholds per attribute (0.5 when no validation data was given).
    hyperplanes_ : the :class:`~biaslens.mitigate.latent.Hyperplanes` fitted.
    label_rates_ : share of hallucinated positives per attribute on the fit sample.
    """

    def __init__(self, target: str, protected: str | Sequence[str] = "Male", *,
                 n_fit: int = 10_000, n_aug: int = 160_000,
                 method: Literal["svm", "logistic"] = "svm",
                 mode: Literal["single", "domain"] = "single",
                 variant: str = "complementary", batch_size: int = 256, seed: int = 0):
        self.target = target
        self.protected = protected
        self.n_fit = n_fit
        self.n_aug = n_aug
        self.method = method
        self.mode = mode
        self.variant = variant
        self.batch_size = batch_size
        self.seed = seed

    # -- helpers ---------------------------------------------------------------------------
    @property
    def _protected(self) -> list[str]:
        return [self.protected] if isinstance(self.protected, str) else list(self.protected)

    def _draw_z(self, n: int, salt: int) -> np.ndarray:
        g = torch.Generator().manual_seed(int(np.random.SeedSequence([self.seed, salt])
                                              .generate_state(1)[0]))
        return torch.randn(n, self.z_dim_, generator=g).double().numpy()

    def _check(self) -> None:
        if self.mode not in ("single", "domain"):
            raise BiasLensError(f"unknown mode {self.mode!r}; valid: single, domain")
        if self.variant not in ABLATIONS:
            raise BiasLensError(f"unknown variant {self.variant!r}; valid: {', '.join(ABLATIONS)}")
        if len(self._protected) not in (1, 2):
            raise BiasLensError("protected must be one attribute or a list of two")
        if len(self._protected) > 1 and (self.mode != "single" or self.variant != "complementary"):
            raise BiasLensError("two protected attributes support only mode='single' with "
                                "variant='complementary'")
        if self.mode == "domain" and self.variant != "complementary":
            raise BiasLensError("ablation variants apply to mode='single' only")
        if self.n_fit < 10:
            raise BiasLensError(f"n_fit must be >= 10, got {self.n_fit}")

    # -- fit -------------------------------------------------------------------------------
    def fit(self, generator: torch.nn.Module, classifier: torch.nn.Module, *,
            val_images: np.ndarray | None = None, val_labels: np.ndarray | None = None
            ) -> LatentAugmentation:
        """Sample ``n_fit`` z, label ``G(z)`` with ``classifier``, fit the hyperplanes.

        Parameters
        ----------
        generator : generator protocol (``z_dim``, ``forward(z)`` in [-1, 1]).
        classifier : attribute classifier with the target and protected attributes.
        val_images, val_labels : real validation images (uint8 NHWC) and bool labels
            (n, 1 + m) in the order ``[target, protected…]``, for the F1 thresholds
            (§4.2); without them every threshold is 0.5.
        """
        self._check()
        if not hasattr(generator, "z_dim"):
            raise BiasLensError("the generator has no z_dim; it must follow the generator "
                                "protocol")
        self.z_dim_ = int(generator.z_dim)
        self.names_ = [self.target] + self._protected
        self.columns_ = _columns(classifier, self.names_)
        if val_images is not None:
            y = np.asarray(val_labels).astype(bool)
            if y.ndim != 2 or y.shape != (len(val_images), len(self.names_)):
                raise DataError(f"val_labels must be (n, {len(self.names_)}) in the order "
                                f"{self.names_}, got {y.shape}", field="val_labels")
            s = classifier_scores(classifier, val_images, self.columns_,
                                  batch_size=self.batch_size)
            self.thresholds_ = np.array([f1_threshold(s[:, k], y[:, k])
                                         for k in range(len(self.names_))])
        else:
            self.thresholds_ = np.full(len(self.names_), 0.5)
        z = self._draw_z(self.n_fit, salt=1)
        labels = self._labels(generator, classifier, z)
        self.label_rates_ = labels.mean(0)
        flat = [n for n, r in zip(self.names_, self.label_rates_) if r in (0.0, 1.0)]
        if flat:
            raise DataError(
                f"the labelling classifier gives every one of the {self.n_fit} generated "
                f"images the same {', '.join(flat)} label (thresholds "
                f"{np.round(self.thresholds_, 2).tolist()}); no hyperplane can be fitted. "
                "Train the classifier longer or pass a better one (--classifier)",
                field=flat[0])
        hp = fit_hyperplanes(z, labels, self.names_, method=self.method, seed=self.seed)
        self.hyperplanes_ = hp
        self.w_t_, self.b_t_ = hp.w[0], float(hp.b[0])
        self.w_g_, self.b_g_ = (hp.w[1], float(hp.b[1])) if len(self._protected) == 1 \
            else (hp.w[1:], hp.b[1:])
        if self.mode == "domain":
            g = labels[:, 1]
            planes = [fit_hyperplanes(z[g == a], labels[g == a, 0], [f"{self.target}|g={a}"],
                                      method=self.method, seed=self.seed) for a in (0, 1)]
            self.w_t_ = np.stack([p.w[0] for p in planes])
            self.b_t_ = np.array([p.b[0] for p in planes])
            self.domain_accuracy_ = np.array([p.accuracy[0] for p in planes])
        self.cos_theta_ = (self.w_g_ @ self.w_t_.T).tolist() if self.mode == "single" \
            else (self.w_t_ @ self.w_g_).tolist()
        self.generator_, self.classifier_ = generator, classifier
        return self

    def _labels(self, generator, classifier, z: np.ndarray) -> np.ndarray:
        imgs = generate_from_latents(generator, z, batch_size=self.batch_size)
        s = classifier_scores(classifier, imgs, self.columns_, batch_size=self.batch_size)
        return s > self.thresholds_

    # -- transform -------------------------------------------------------------------------
    def complement(self, z: np.ndarray) -> np.ndarray:
        """``z'`` for each row of ``z`` (the fitted mode/variant)."""
        if not hasattr(self, "w_t_"):
            raise BiasLensError("call fit() before complement()")
        if len(self._protected) > 1:
            return complementary_z_multi(z, self.w_t_, self.b_t_, self.w_g_, self.b_g_)
        if self.mode == "domain":
            return complementary_z_domain(z, self.w_g_, self.b_g_, self.w_t_[0], self.b_t_[0],
                                          self.w_t_[1], self.b_t_[1])
        return complementary_z(z, self.w_t_, self.b_t_, self.w_g_, self.b_g_,
                               variant=self.variant)

    def generate_pairs(self, n: int | None = None, *, seed: int | None = None) -> LatentPairs:
        """``n`` (default ``n_aug``) pairs ``G(z), G(z')`` with hallucinated labels (§4.5).

        ``G(z)`` is labelled ``(t̂(z), ĝ(z))`` by the classifier at the fitted thresholds;
        ``G(z')`` inherits ``t̂(z)`` and gets ``1 − ĝ(z)``. ``seed`` (default: the
        estimator's) selects a z stream disjoint from the fitting sample.
        """
        if not hasattr(self, "w_t_"):
            raise BiasLensError("call fit() before generate_pairs()")
        n = self.n_aug if n is None else int(n)
        z = self._draw_z(n, salt=2 if seed is None else 1000 + int(seed))
        zp = self.complement(z)
        imgs = generate_from_latents(self.generator_, z, batch_size=self.batch_size)
        imgs_p = generate_from_latents(self.generator_, zp, batch_size=self.batch_size)
        s = classifier_scores(self.classifier_, imgs, self.columns_, batch_size=self.batch_size)
        lab = s > self.thresholds_
        lab_p = lab.copy()
        lab_p[:, 1:] = ~lab[:, 1:]
        read_p = classifier_scores(self.classifier_, imgs_p, self.columns_,
                                   batch_size=self.batch_size) > self.thresholds_
        premise = premise_check(self.names_, self.hyperplanes_.scores(z), lab, lab_p, read_p)
        return LatentPairs(z, zp, to_uint8_numpy(imgs), to_uint8_numpy(imgs_p), lab, lab_p,
                           list(self.names_), premise)

    def to_dict(self) -> dict[str, Any]:
        """Arguments and (when fitted) the learned state, JSON-able."""
        d: dict[str, Any] = {k: getattr(self, k) for k in
                             ("target", "protected", "n_fit", "n_aug", "method", "mode",
                              "variant", "batch_size", "seed")}
        if hasattr(self, "w_t_"):
            d.update(names=self.names_, thresholds=self.thresholds_.tolist(),
                     label_rates=self.label_rates_.tolist(), cos_theta=self.cos_theta_,
                     hyperplanes=self.hyperplanes_.to_dict(),
                     fit_accuracy=self.hyperplanes_.accuracy.tolist())
        return d


# ---------------------------------------------------------------------------------------
# the pipeline: baseline vs augmented classifier
# ---------------------------------------------------------------------------------------


@dataclass
class LatentAugResult:
    """Baseline vs augmented target classifier on one target (JSON via ``to_dict``)."""

    target: str
    protected: list[str]
    category: str
    baseline: dict[str, Any]
    augmented: dict[str, Any]
    change: dict[str, Any]
    augmentation: dict[str, Any]
    pairs: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # the options, precision resolved

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _paired_change(y, g, s_a, s_b, yh_a, yh_b, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Paired bootstrap (same resamples) of augmented − baseline for DEO and BA (×100)."""
    from biaslens.audit.ramaswamy import average_precision, bias_amplification, deo

    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    out = {}
    for key, fn in (("deo", deo), ("ba", bias_amplification)):
        # a loop over resamples (not samples); each call is a vectorized count table
        d = np.array([fn(y[i], yh_b[i], g[i]) - fn(y[i], yh_a[i], g[i]) for i in idx])
        point = fn(y, yh_b, g) - fn(y, yh_a, g)
        out[key] = _verdict(point, d)
    d = np.array([average_precision(y[i], s_b[i]) - average_precision(y[i], s_a[i])
                  for i in idx[: max(1, n_boot // 4)]])
    out["ap"] = _verdict(average_precision(y, s_b) - average_precision(y, s_a), d)
    return out


def _verdict(point: float, d: np.ndarray) -> dict[str, Any]:
    d = d[np.isfinite(d)]
    lo, hi = (np.quantile(d, [0.025, 0.975]) if d.size else (np.nan, np.nan))
    return {"difference": float(point), "ci": [float(lo), float(hi)],
            "verdict": "reduced" if hi < 0 else "increased" if lo > 0 else
            "no significant change"}


@dataclass(frozen=True)
class LatentAugOptions(CheckedOptions):
    """Options of :func:`run_latent_aug`: the augmentation and the recipe both target
    classifiers share."""

    RANGES = {"n_fit": Range(2), "n_aug": Range(1), "epochs": Range(1), "batch_size": Range(1),
              "lr": POSITIVE, "n_boot": Range(0), "seed": Range(0)}
    CHOICES = {"precision": PRECISIONS}

    n_fit: int = 10_000                 # z sampled to fit the hyperplanes
    n_aug: int = 10_000                 # pairs (z, z') added to the training data
    epochs: int = 2                     # epochs over each training set (augmented is larger)
    batch_size: int = 64                # classifier training batch
    lr: float = 1e-3                    # Adam learning rate of both classifiers
    arch: str = "coursera_classifier"   # target classifier architecture
    method: str = "svm"                 # hyperplane fit: svm (LinearSVC) | logistic
    mode: str = "single"                # single | domain (domain-dependent target planes)
    variant: str = "complementary"      # complementary | an ablation (single mode only)
    n_boot: int = 500                   # bootstrap resamples of the metrics and the change
    device: str = "cpu"                 # training and scoring device
    precision: str = "auto"             # of both trainings: auto | fp32 | bf16
    seed: int = 0                       # weights, z draws, bootstrap


def run_latent_aug(real: Any, generator: torch.nn.Module,
                   options: LatentAugOptions | None = None, *, target: str,
                   protected: str | Sequence[str] = "Male",
                   test: tuple[np.ndarray, np.ndarray], out: str | Path,
                   labeler: torch.nn.Module | None = None, progress: Any = None,
                   **overrides: Any) -> LatentAugResult:
    """Baseline vs latent-augmented target classifier, scored on a test set (§4.5, §4.7).

    Parameters
    ----------
    real : cache / TrainData with the target and protected attributes and train/val splits.
    generator : generator protocol (the default model or e.g. :class:`WorldGenerator`).
    options : :class:`LatentAugOptions`; ``**overrides`` replace single fields
        (``n_fit=200, epochs=3``).
    target, protected : target attribute; protected attribute or a list of two.
    test : ``(images uint8 NHWC, attrs bool (n, 40) in CelebA order)``; its first half
        fits the calibrated threshold (§4.2), the second half is scored (§4.7).
    out : folder of the two training runs (``baseline/``, ``augmented/``).
    labeler : classifier that hallucinates labels; default the trained baseline (paper).
    progress : optional ``progress(stage, done, total)`` callback.

    Both classifiers learn ``[target, protected…]`` with the same architecture and
    schedule; the target column is evaluated.

    Examples
    --------
    >>> run_latent_aug(real, gen, target="Smiling", test=test, out="runs/la",
    ...                n_fit=200, epochs=3)  # doctest: +SKIP
    """
    from biaslens.audit.ramaswamy import calibrated_threshold, ramaswamy_metrics
    from biaslens.names import CELEBA_ATTRIBUTES, canonical_name
    from biaslens.train import TrainData, as_train_data, train_classifier

    o = resolve_options(LatentAugOptions, options, overrides, where="run_latent_aug")
    td = as_train_data(real)
    if td.attrs is None:
        raise DataError("latent augmentation needs attribute labels", path=td.source,
                        field="attrs")
    prot = [protected] if isinstance(protected, str) else list(protected)
    names = [canonical_name(a, td.attribute_names) for a in [target] + prot]
    cols = [td.attribute_names.index(a) for a in names]
    va = td.indices("val")
    if len(va) == 0:
        raise DataError("the data needs a val split (F1 thresholds)", path=td.source,
                        field="split")
    out = Path(out)
    real2 = TrainData(images=td.images, attrs=td.attrs[:, cols], attribute_names=names,
                      split=td.split, content_hash=td.content_hash, source=td.source)

    def train(data: TrainData, name: str) -> torch.nn.Module:
        from biaslens.models import load_checkpoint

        n_tr = len(data.indices("train"))
        steps = max(1, o.epochs * n_tr // o.batch_size)
        r = train_classifier(data, out=out / name, steps=steps, batch_size=o.batch_size,
                             lr=o.lr, arch=o.arch, seed=o.seed, device=o.device,
                             precision=o.precision, eval_every=0,
                             log_every=max(1, steps // 10), checkpoint_every=0,
                             progress=None if progress is None else
                             (lambda s, t, m: progress(name, s, t)))
        return load_checkpoint(Path(r.checkpoint) / "classifier", device=o.device)[0]

    base = train(real2, "baseline")
    aug = LatentAugmentation(names[0], names[1:] if len(names) > 2 else names[1],
                             n_fit=o.n_fit, n_aug=o.n_aug, method=o.method, mode=o.mode,
                             variant=o.variant, seed=o.seed)
    note = progress or (lambda stage, done, total: None)
    note("fit hyperplanes", 0, 1)
    aug.fit(generator, base if labeler is None else labeler,
            val_images=np.asarray(td.images[va]), val_labels=td.attrs[va][:, cols])
    note("fit hyperplanes", 1, 1)
    note("generate pairs", 0, 1)
    pairs = aug.generate_pairs(o.n_aug)
    note("generate pairs", 1, 1)
    img_real = np.asarray(td.images)
    aug_data = TrainData(
        images=np.concatenate([img_real, pairs.images, pairs.images_prime]),
        attrs=np.concatenate([td.attrs[:, cols], pairs.labels, pairs.labels_prime]),
        attribute_names=names,
        split=np.concatenate([td.split if td.split is not None else np.zeros(td.n, np.int8),
                              np.zeros(2 * len(pairs.z), np.int8)]),
        source=f"{td.source} + {2 * len(pairs.z)} latent-augmented images")
    augmented = train(aug_data, "augmented")

    test_images, test_attrs = test
    t_col = CELEBA_ATTRIBUTES.index(names[0])
    g_col = CELEBA_ATTRIBUTES.index(names[1])
    half = len(test_images) // 2
    reports, scores, preds = {}, {}, {}
    y_val, y = test_attrs[:half, t_col], test_attrs[half:, t_col]
    g = test_attrs[half:, g_col]
    for key, model in (("baseline", base), ("augmented", augmented)):
        s = classifier_scores(model, test_images, [0])[:, 0]
        thr = calibrated_threshold(s[:half], y_val)
        scores[key], preds[key] = s[half:], s[half:] > thr
        reports[key] = {**ramaswamy_metrics(y, preds[key], scores[key], g, n_boot=o.n_boot,
                                            seed=o.seed).to_dict(), "threshold": thr}
    change = _paired_change(y, g, scores["baseline"], scores["augmented"], preds["baseline"],
                            preds["augmented"], n_boot=o.n_boot, seed=o.seed)
    return LatentAugResult(target=names[0], protected=names[1:], category=category_of(names[0]),
                           baseline=reports["baseline"], augmented=reports["augmented"],
                           change=change, augmentation=aug.to_dict(), pairs=pairs.to_dict(),
                           settings={**dataclasses.asdict(o), "precision_used":
                                     resolve_precision(o.precision, o.device)})


def summarize_by_category(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The paper's table (§4.8): per category (and ``all``), the mean over targets (and
    seeds) of each metric's bootstrap median and of its ±2·std, baseline and augmented.

    ``results`` are :meth:`LatentAugResult.to_dict` outputs (one per target and seed).
    """
    cats: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        cats.setdefault(r["category"], []).append(r)
    if len(cats) > 1 or not cats:
        cats["all"] = list(results)
    out: dict[str, dict[str, Any]] = {}
    for cat, rs in cats.items():
        names = list(dict.fromkeys(r["target"] for r in rs))
        entry: dict[str, Any] = {"n_targets": len(names), "targets": names, "n_runs": len(rs)}
        for m in ("ap", "deo", "ba", "kl"):
            entry[m] = {}
            for k in ("baseline", "augmented"):
                with np.errstate(invalid="ignore"):
                    entry[m][k] = float(np.nanmean([r[k][m] for r in rs])) if rs else np.nan
                    entry[m][f"{k}_pm"] = (float(np.nanmean([r[k][f"{m}_pm"] for r in rs]))
                                           if rs else np.nan)
        out[cat] = entry
    return out


def changes_by_target(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per target, the paired changes (augmented − baseline) of every run (seed) and how
    many runs each verdict got: ``{"deo": {"per_seed": [{"seed": s, "difference": ...}],
    "reduced": k, ...}, ...,
    "hyperplane_auc": [...], "premise_holds": [...]}``."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        e = out.setdefault(r["target"], {"category": r["category"], "seeds": []})
        seed = r.get("seed", r.get("settings", {}).get("seed"))
        e["seeds"].append(seed)
        for m in ("deo", "ba", "ap"):
            c = r["change"][m]
            d = e.setdefault(m, {"per_seed": [], "reduced": 0, "increased": 0,
                                 "no significant change": 0})
            d["per_seed"].append({"seed": seed, "difference": c["difference"], "ci": c["ci"],
                                  "verdict": c["verdict"]})
            d[c["verdict"]] += 1
        premise = r.get("pairs", {}).get("premise", {})
        e.setdefault("hyperplane_auc", []).append(
            (premise.get("hyperplane_auc") or [float("nan")])[0])
        e.setdefault("premise_holds", []).append(premise.get("holds"))
    return out
