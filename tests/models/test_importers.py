"""Importing third-party .pth files in the course / tutorial layouts.

The reference modules below are written independently of biaslens.models, layer for
layer as ALGORITHMS.md §1 describes the sources, so these tests check the key layout
and not just self-consistency.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from biaslens.errors import CheckpointError, UnknownNameError
from biaslens.models import (
    import_checkpoint,
    import_to_checkpoint,
    load_checkpoint,
    load_model,
)
from biaslens.names import CELEBA_ATTRIBUTES


class CourseGenerator(nn.Module):
    """The course's generator: gen = Sequential(5 x Sequential(ConvT, BN, ReLU | Tanh))."""

    def __init__(self, z_dim=64, im_chan=3, hidden_dim=64):
        super().__init__()
        self.z_dim = z_dim
        h = hidden_dim

        def block(i, o, k=3, final=False):
            if final:
                return nn.Sequential(nn.ConvTranspose2d(i, o, k, 2), nn.Tanh())
            return nn.Sequential(nn.ConvTranspose2d(i, o, k, 2), nn.BatchNorm2d(o), nn.ReLU())

        self.gen = nn.Sequential(block(z_dim, 8 * h), block(8 * h, 4 * h), block(4 * h, 2 * h),
                                 block(2 * h, h), block(h, im_chan, 4, final=True))

    def forward(self, z):
        return self.gen(z.view(len(z), self.z_dim, 1, 1))


class CourseClassifier(nn.Module):
    """The course's classifier: classifier = Sequential(3 x (Conv, BN, LReLU), (Conv,))."""

    def __init__(self, im_chan=3, n_classes=40, hidden_dim=64):
        super().__init__()
        h = hidden_dim

        def block(i, o, s=2, final=False):
            if final:
                return nn.Sequential(nn.Conv2d(i, o, 4, s))
            return nn.Sequential(nn.Conv2d(i, o, 4, s), nn.BatchNorm2d(o), nn.LeakyReLU(0.2))

        self.classifier = nn.Sequential(block(im_chan, h), block(h, 2 * h),
                                        block(2 * h, 4 * h, 3), block(4 * h, n_classes, final=True))

    def forward(self, x):
        return self.classifier(x).view(len(x), -1)


class TutorialGenerator(nn.Module):
    """The PyTorch DCGAN tutorial generator with biases on (the exploring-bias app)."""

    def __init__(self, nz=64, ngf=64, nc=3):
        super().__init__()
        self.nz = nz
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z.view(len(z), self.nz, 1, 1))


class NotATensor:
    """Something torch.load(weights_only=True) must refuse."""


def _randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    # Non-default BN statistics, so an import that dropped buffers would be caught.
    g = torch.Generator().manual_seed(seed)
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.copy_(torch.rand(mod.num_features, generator=g) - 0.5)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
    return model.eval()


def _same_outputs(ref: nn.Module, model: nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=0, atol=0)


def _opt_state(model: nn.Module) -> dict:
    # A real optimizer state (step + moments) as stored next to the weights by the course.
    opt = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    model.train()
    x = torch.zeros(2, getattr(model, "z_dim", 3), *(() if hasattr(model, "z_dim") else (64, 64)))
    model(x).square().mean().backward()
    opt.step()
    return opt.state_dict()


@pytest.fixture(scope="module")
def course_gen_file(tmp_path_factory):
    torch.manual_seed(0)
    ref = CourseGenerator()
    opt = _opt_state(ref)
    _randomize(ref)
    path = tmp_path_factory.mktemp("course") / "pretrained_celeba.pth"
    torch.save({"gen": ref.state_dict(), "gen_opt": opt}, path)
    return path, ref.eval()


def test_course_generator_file(course_gen_file, tmp_path):
    path, ref = course_gen_file
    gen = import_checkpoint(path)
    assert gen.architecture == "coursera_dcgan_generator" and not gen.training
    assert gen.config == {"z_dim": 64, "im_chan": 3, "hidden_dim": 64}
    z = torch.randn(4, 64, generator=torch.Generator().manual_seed(1))
    _same_outputs(ref, gen, z)
    # and through a biaslens checkpoint folder
    model, info = import_to_checkpoint(path, tmp_path / "gen")
    assert info.extra["imported_from"]["container_key"] == "gen"
    loaded, _ = load_checkpoint(tmp_path / "gen", expected_architecture="coursera_dcgan_generator")
    _same_outputs(ref, loaded, z)


def test_course_classifier_file(tmp_path):
    torch.manual_seed(0)
    ref = _randomize(CourseClassifier())
    path = tmp_path / "pretrained_classifier.pth"
    torch.save({"classifier": ref.state_dict()}, path)
    cls = import_checkpoint(path)
    assert cls.architecture == "coursera_classifier"
    assert cls.attribute_names == CELEBA_ATTRIBUTES
    x = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(2)) * 2 - 1
    _same_outputs(ref, cls, x)


def test_exploring_bias_generator_file(tmp_path):
    torch.manual_seed(0)
    ref = _randomize(TutorialGenerator())
    path = tmp_path / "generator.pth"
    torch.save({"state_dict": ref.state_dict()}, path)
    gen = import_checkpoint(path)
    assert gen.architecture == "pytorch_dcgan_generator"
    _same_outputs(ref, gen, torch.randn(2, 64, generator=torch.Generator().manual_seed(3)))


def test_bare_state_dict_with_module_prefix_and_old_bn(tmp_path):
    # DataParallel prefixes and files without num_batches_tracked still import.
    ref = _randomize(CourseClassifier(hidden_dim=4, n_classes=3))
    sd = {f"module.{k}": v for k, v in ref.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    path = tmp_path / "bare.pth"
    torch.save(sd, path)
    cls = import_checkpoint(path, attribute_names=["a", "b", "c"])
    assert cls.attribute_names == ("a", "b", "c")
    _same_outputs(ref, cls, torch.zeros(2, 3, 64, 64))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(z_dim=st.integers(1, 24), hidden=st.integers(1, 6), chans=st.sampled_from([1, 3]))
def test_widths_are_read_from_shapes(tmp_path, z_dim, hidden, chans):
    torch.manual_seed(z_dim)
    ref = CourseGenerator(z_dim=z_dim, im_chan=chans, hidden_dim=hidden).eval()
    path = tmp_path / f"g{z_dim}_{hidden}_{chans}.pth"
    torch.save({"gen": ref.state_dict()}, path)
    gen = import_checkpoint(path)
    assert gen.config == {"z_dim": z_dim, "im_chan": chans, "hidden_dim": hidden}
    _same_outputs(ref, gen, torch.randn(2, z_dim))


def test_load_model_accepts_folder_and_file(course_gen_file, tmp_path):
    path, _ = course_gen_file
    import_to_checkpoint(path, tmp_path / "ckpt")
    assert load_model(path).architecture == "coursera_dcgan_generator"
    assert load_model(tmp_path / "ckpt").architecture == "coursera_dcgan_generator"
    with pytest.raises(CheckpointError, match="config.json not found"):
        load_model(tmp_path)


# ---- errors -----------------------------------------------------------------------------

def test_wrong_architecture_lists_expected_keys(course_gen_file):
    path, _ = course_gen_file
    with pytest.raises(CheckpointError) as exc:
        import_checkpoint(path, arch="coursera_classifier")
    msg = str(exc.value)
    assert str(path) in msg and "classifier.0.0.weight" in msg and "gen.0.0.weight" in msg


def test_wrong_shapes_are_named(tmp_path):
    sd = CourseClassifier(hidden_dim=4).state_dict()
    sd["classifier.1.0.weight"] = torch.zeros(8, 4, 3, 3)  # kernel 3 instead of 4
    path = tmp_path / "bad.pth"
    torch.save({"classifier": sd}, path)
    with pytest.raises(CheckpointError, match=r"classifier\.1\.0\.weight: expected "
                                              r"\(8, 4, 4, 4\), found \(8, 4, 3, 3\)"):
        import_checkpoint(path)


def test_unknown_layout_and_unknown_arch(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"model": {"fc.weight": torch.zeros(2, 2)}}, path)
    with pytest.raises(CheckpointError, match=r"no known model layout.*fc\.weight \(2, 2\)"):
        import_checkpoint(path)
    with pytest.raises(UnknownNameError, match="Valid architectures: .*coursera_classifier"):
        import_checkpoint(path, arch="stylegan9")
    with pytest.raises(CheckpointError, match="unexpected keys"):
        import_checkpoint(path, arch="vae")  # raw state dict route, wrong keys


def test_unreadable_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        import_checkpoint(tmp_path / "missing.pth")
    text = tmp_path / "notes.pth"
    text.write_text("not a checkpoint\n")
    with pytest.raises(CheckpointError, match="not a PyTorch weights file"):
        import_checkpoint(text)
    pickled = tmp_path / "code.pth"
    torch.save({"gen": NotATensor()}, pickled)
    with pytest.raises(CheckpointError, match="weights_only.*NotATensor"):
        import_checkpoint(pickled)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(pickled.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="not a"):
        import_checkpoint(truncated)
    with pytest.raises(CheckpointError, match="is a folder"):
        import_checkpoint(tmp_path)
