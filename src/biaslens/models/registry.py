"""Registry of model architectures by name.

Each architecture is a plain ``nn.Module`` class whose constructor keyword arguments
are its config (JSON-able). ``@register_model("name")`` adds it to the registry and sets
``cls.architecture = "name"``, so a saved checkpoint can rebuild it with
``build_model(name, **config)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from biaslens.errors import BiasLensError, UnknownNameError

_REGISTRY: dict[str, type[nn.Module]] = {}


def register_model(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator registering an architecture under ``name``.

    Examples
    --------
    >>> @register_model("my_net")            # doctest: +SKIP
    ... class MyNet(nn.Module): ...
    """

    def deco(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"model architecture {name!r} is already registered")
        _REGISTRY[name] = cls
        cls.architecture = name  # type: ignore[attr-defined]
        return cls

    return deco


def get_architecture(name: str) -> type[nn.Module]:
    """The class registered as ``name``; :class:`UnknownNameError` lists the valid names."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown model architecture {name!r}. "
            f"Valid architectures: {', '.join(sorted(_REGISTRY))}"
        ) from None


def build_model(name: str, **config) -> nn.Module:
    """Build architecture ``name`` with constructor arguments ``config`` (defaults otherwise).

    Examples
    --------
    >>> g = build_model("coursera_dcgan_generator")
    >>> g.z_dim, g.image_size
    (64, 64)
    """
    cls = get_architecture(name)
    valid = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise UnknownNameError(
            f"unknown config key(s) {', '.join(unknown)} for architecture {name!r}. "
            f"Valid keys: {', '.join(valid)}"
        )
    return cls(**config)


def list_architectures() -> list[str]:
    """Sorted names of every registered architecture."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not; BatchNorm buffers are not parameters)."""
    return sum(p.numel() for p in model.parameters())


def _ensure_loaded() -> None:
    # Importing the package registers the built-in architectures (one module each).
    import biaslens.models  # noqa: F401


def attribute_names_config(attribute_names, default: tuple[str, ...] | None = None
                           ) -> tuple[str, ...]:
    """Validate a classifier's ``attribute_names`` argument (non-empty, unique strings).

    ``None`` means ``default`` (CelebA's 40 attributes for attribute classifiers).
    Returned as a tuple; the model records it in ``config`` as a JSON list.
    """
    if attribute_names is None:
        if default is None:
            raise ValueError("attribute_names is required")
        attribute_names = default
    if isinstance(attribute_names, str):
        raise ValueError("attribute_names must be a sequence of names, not one string")
    names = tuple(str(n) for n in attribute_names)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"attribute_names must be non-empty and unique, got {list(names)}")
    return names


def model_kind(model: nn.Module) -> str:
    """Which duck-typed protocol ``model`` follows: ``"vae"`` (has ``encode``/``decode``),
    ``"generator"`` (``z_dim``), ``"classifier"`` (``attribute_names``) or
    ``"discriminator"``."""
    if hasattr(model, "encode") and hasattr(model, "decode"):
        return "vae"
    if hasattr(model, "z_dim"):
        return "generator"
    if hasattr(model, "attribute_names"):
        return "classifier"
    return "discriminator"


#: The model kinds (:func:`model_kind`) each audit role takes.
MODEL_ROLES: dict[str, tuple[str, ...]] = {
    "generator": ("generator",), "classifier": ("classifier",), "judge": ("classifier",),
    "vae": ("vae",), "cvae": ("vae",), "dbvae": ("vae",),
}
_KIND_NAMES = {"generator": "a generator", "classifier": "an attribute classifier",
               "vae": "a VAE", "discriminator": "a discriminator"}
_ROLE_NAMES = {"cvae": "a conditional VAE", "dbvae": "a DB-VAE"}


def check_role(model: nn.Module, role: str, *, source: object = "the model",
               accept: tuple[str, ...] | None = None) -> None:
    """Raise a :class:`~biaslens.errors.BiasLensError` naming ``source`` (a path) when
    ``model`` cannot play ``role`` — a VAE given as the classifier, a classifier as the
    generator, a VAE without a condition as the conditional VAE — so the mistake is one
    clear message before any work starts, not an attribute error deep inside an audit.
    ``accept`` widens the kinds (the population audit also samples a VAE's prior)."""
    kinds = accept or MODEL_ROLES[role]
    kind = model_kind(model)
    found = f"{source}: {_KIND_NAMES[kind]} ({type(model).__name__})"
    if kind not in kinds:
        wanted = (_ROLE_NAMES.get(role) if accept is None else None) \
            or " or ".join(_KIND_NAMES[k] for k in kinds)
        raise BiasLensError(f"{found}, not {wanted}")
    if role == "cvae" and not getattr(model, "condition_names", None):
        raise BiasLensError(f"{found} without a condition, not a conditional VAE")
