"""The package's layering (docs/ARCHITECTURE.md, "Layers"), checked on the source.

Every ``import biaslens.X`` / ``from biaslens.X import ...`` in a module, at module level or
inside a function, must name a layer at or below the module's own. Plus the issue-#13
rules: cli/ and app/ never import each other, report/ imports no audit *function* (result
types and constants only), and pixels are converted in biaslens.tensors alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import biaslens

ROOT = Path(biaslens.__file__).resolve().parent

#: Layer rank of each top-level part; a module may import parts of equal or lower rank.
LAYERS = {
    "__init__": 0, "names": 0, "errors": 0, "stats": 0, "tensors": 0, "io": 0,
    "options": 0, "precision": 0,
    "data": 1, "world": 1, "models": 1,
    "audit": 2, "train": 2, "mitigate": 2, "experiments": 2, "defaults": 2,
    "pipelines": 3,
    "report": 4,
    "cli": 5, "app": 5,
}


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "resources" not in p.parts)


def _part(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported biaslens module, imported names) for every import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names
                    if a.name.startswith("biaslens.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "biaslens" or node.module.startswith("biaslens."):
                out.append((node.lineno, node.module, [a.name for a in node.names]))
    return out


def _target_part(module: str, names: list[str]) -> list[str]:
    parts = module.split(".")
    if len(parts) > 1:
        return [parts[1]]
    return names  # ``from biaslens import defaults`` names the parts themselves


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path: Path) -> None:
    own = _part(path)
    assert own in LAYERS, f"{own}: new top-level part — give it a layer in LAYERS and the docs"
    bad = []
    for line, module, names in _imports(path):
        for part in _target_part(module, names):
            if part not in LAYERS:
                continue  # e.g. ``from biaslens import __version__``
            if LAYERS[part] > LAYERS[own] or {own, part} == {"cli", "app"}:
                bad.append(f"line {line}: {own} imports {module} ({part})")
    assert not bad, "\n".join(bad)


def test_report_calls_no_audit_function() -> None:
    bad = []
    for path in (ROOT / "report").rglob("*.py"):
        for line, module, names in _imports(path):
            if module.startswith("biaslens.audit"):
                funcs = [n for n in names if not (n[:1].isupper())]
                if funcs or not names:
                    bad.append(f"{path.name}:{line} imports {funcs or module} from {module}")
    assert not bad, "report/ renders results it is given:\n" + "\n".join(bad)


def test_pixels_are_converted_in_tensors_alone() -> None:
    where = sorted(str(p.relative_to(ROOT)) for p in _modules()
                   if "127.5" in p.read_text(encoding="utf-8"))
    assert where == ["tensors.py"], where
