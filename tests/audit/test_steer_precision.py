"""bf16 steering: the same table as fp32 on the shipped models, the fast transposed conv,
and the resolved precision recorded in the result."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from biaslens.audit.steer import steer_audit
from biaslens.models.inference import GradConvTranspose2d, inference_copy
from biaslens.precision import cpu_has_bf16


@pytest.mark.parametrize("layer, shape", [
    (nn.ConvTranspose2d(4, 5, 3, 2), (3, 4, 6, 7)),
    (nn.ConvTranspose2d(4, 5, (3, 2), (2, 1), padding=(1, 0), output_padding=(1, 0)),
     (3, 4, 5, 5)),
    (nn.ConvTranspose2d(6, 5, 4, 2, bias=False), (3, 6, 1, 1)),  # 1x1 input: a matmul
])
def test_grad_conv_transpose_is_the_same_function(layer, shape):
    torch.manual_seed(0)
    net = nn.Sequential(layer).eval()
    fast = inference_copy(net, torch.device("cpu"))
    assert isinstance(fast[0], GradConvTranspose2d) and type(net[0]) is nn.ConvTranspose2d
    x1 = torch.randn(shape, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    y1, y2 = net(x1), fast(x2)
    torch.testing.assert_close(y2, y1, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(y1)
    (g1,), (g2,) = torch.autograd.grad(y1, x1, g), torch.autograd.grad(y2, x2, g)
    torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y3 = fast(x2)
    assert y3.dtype == torch.bfloat16
    torch.testing.assert_close(y3.float(), y1, rtol=0.05, atol=0.05)


def _tiny():
    class G(nn.Module):
        z_dim = 4

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 12)

        def forward(self, z):
            return torch.tanh(self.lin(z)).view(-1, 3, 2, 2)

    class C(nn.Module):
        attribute_names = ["Male", "Smiling"]

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(12, 2)

        def forward(self, x):
            return self.lin(x.flatten(1))

    torch.manual_seed(0)
    return G(), C()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resolved_precision_is_recorded(precision):
    g, c = _tiny()
    res = steer_audit(g, c, "Male", n_samples=8, steps=2, n_boot=0, precision=precision)
    assert res.precision == precision
    assert res.to_dict()["settings"]["precision"] == precision
    assert res.history.dtype == np.float32


def test_auto_precision_resolves_by_hardware():
    g, c = _tiny()
    res = steer_audit(g, c, "Male", n_samples=8, steps=2, n_boot=0)
    assert res.precision == ("bf16" if cpu_has_bf16() else "fp32")


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 matrix units")
def test_bf16_table_equals_fp32_within_its_bootstrap_ci():
    """Every attribute's bf16 covariance lies inside the fp32 95% bootstrap CI.

    The two runs steer the same noise (same seed), so their difference is numerical, not
    sampling: the bf16 *point estimate* must fall inside the fp32 interval (stricter than
    overlapping CIs, which would allow a difference of almost two CI half-widths).
    """
    from biaslens.defaults import load_default

    gen, clf = load_default("generator"), load_default("classifier")
    kw = dict(n_samples=48, steps=10, n_boot=200, seed=3, device="cpu")
    f = steer_audit(gen, clf, "Male", precision="fp32", **kw)
    b = steer_audit(gen, clf, "Male", precision="bf16", **kw)
    assert (f.precision, b.precision) == ("fp32", "bf16")
    inside = (b.covariance >= f.ci_low) & (b.covariance <= f.ci_high)
    assert inside.all(), [n for n, ok in zip(f.attribute_names, inside) if not ok]
