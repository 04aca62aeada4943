"""The layering rules of ARCHITECTURE.md, checked on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "shieldwall"

# layer -> layers of ours it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": ("services", "storage", "web", "cli", "bootstrap", "asgi", "settings"),
    "services": ("storage", "web", "cli", "bootstrap", "asgi", "settings"),
    "storage": ("web", "cli", "bootstrap", "asgi"),
    "web": ("storage", "cli"),
    "client": ("services", "storage", "web", "cli", "bootstrap", "asgi", "settings"),
}


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name == "shieldwall" or name.startswith("shieldwall.")]


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_imports(path: Path) -> None:
    layer = _layer(path)
    for name in _imports(path):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else ""
        assert target not in FORBIDDEN.get(layer, ()), f"{layer} must not import {name}"
        if layer == "storage" and target == "services":
            assert name == "shieldwall.services.ports", "storage may use only services.ports"


def test_domain_is_pure() -> None:
    """domain/ reads no clock, randomness, environment, files or network."""
    banned = {"time", "random", "secrets", "os", "socket", "uuid", "pathlib", "httpx", "sqlalchemy"}
    for path in sorted((PACKAGE / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module.split(".")[0]]
            assert not banned.intersection(names), f"{path.name} imports {names}"
