"""The architecture registry (models/registry.py): names, configs, kinds and roles."""

from __future__ import annotations

import pytest
from torch import nn

from biaslens.errors import BiasLensError, UnknownNameError
from biaslens.models import registry
from biaslens.models.registry import (
    attribute_names_config,
    build_model,
    check_role,
    count_parameters,
    get_architecture,
    model_kind,
    register_model,
)
from biaslens.names import CELEBA_ATTRIBUTES


@pytest.fixture
def scratch_name():
    """A registry name that is removed again after the test."""
    yield "test_registry_scratch"
    registry._REGISTRY.pop("test_registry_scratch", None)


def test_register_names_the_class_and_refuses_a_second_class(scratch_name):
    @register_model(scratch_name)
    class Net(nn.Module):
        def __init__(self, width: int = 2):
            super().__init__()
            self.fc = nn.Linear(width, 1)

    assert Net.architecture == scratch_name and get_architecture(scratch_name) is Net
    assert register_model(scratch_name)(Net) is Net                 # the same class again
    with pytest.raises(ValueError, match="already registered"):
        register_model(scratch_name)(type("Other", (nn.Module,), {}))
    assert build_model(scratch_name, width=3).fc.in_features == 3
    with pytest.raises(UnknownNameError, match="unknown config key.*depth.*Valid keys: width"):
        build_model(scratch_name, depth=2)


def test_unknown_architecture_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="unknown model architecture 'nope'. Valid "
                                               "architectures: .*coursera_classifier"):
        get_architecture("nope")


def test_count_parameters_counts_every_parameter_not_buffers():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m[0].weight.requires_grad_(False)
    assert count_parameters(m) == 3 * 2 + 2 + 2 + 2


def test_attribute_names_config():
    assert attribute_names_config(None, CELEBA_ATTRIBUTES) == CELEBA_ATTRIBUTES
    assert attribute_names_config(["a", 1]) == ("a", "1")
    for bad, match in ((None, "is required"), ("Male", "not one string"), ([], "non-empty"),
                       (["a", "a"], "unique")):
        with pytest.raises(ValueError, match=match):
            attribute_names_config(bad)


class Gen(nn.Module):
    z_dim = 4


class Clf(nn.Module):
    attribute_names = ("Male",)


class Vae(nn.Module):
    condition_names: tuple[str, ...] = ()

    def encode(self, x):  # pragma: no cover - the protocol only
        return x

    def decode(self, z):  # pragma: no cover - the protocol only
        return z


def test_kinds_follow_the_duck_typed_protocols():
    assert [model_kind(m) for m in (Gen(), Clf(), Vae(), nn.Linear(1, 1))] == [
        "generator", "classifier", "vae", "discriminator"]


def test_roles_are_checked_with_a_message_naming_the_source():
    check_role(Gen(), "generator")
    check_role(Clf(), "judge")
    check_role(Vae(), "generator", accept=("generator", "vae"))
    with pytest.raises(BiasLensError, match=r"^ckpt: an attribute classifier \(Clf\), not a "
                                            r"generator$"):
        check_role(Clf(), "generator", source="ckpt")
    with pytest.raises(BiasLensError, match=r"\(Gen\), not a DB-VAE$"):
        check_role(Gen(), "dbvae")
    with pytest.raises(BiasLensError, match=r"a VAE \(Vae\) without a condition"):
        check_role(Vae(), "cvae")
    conditional = Vae()
    conditional.condition_names = ("Male",)
    check_role(conditional, "cvae")
