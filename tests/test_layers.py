"""The subpackages of rckit.conformance import one way, as docs/architecture.md draws them: each
part imports only the parts below it, and the agent imports nothing of the kit at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance"
#: From the bottom up; a part may import the parts before it (and rckit.conformance itself, whose
#: __init__ only names the suite's folder).
LAYERS = ["agent", "environments", "harness", "support", "outputs", "plugin", "suite", "tools"]


def _part(path: Path) -> str:
    relative = path.relative_to(CONFORMANCE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported(path: Path) -> list[str]:
    """The rckit modules ``path`` imports (at any depth: a lazy import counts too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] if node.module != "rckit.conformance" else [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name == "rckit" or name.startswith("rckit.")]


def _modules(part: str) -> list[Path]:
    folder = CONFORMANCE / part
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [CONFORMANCE / f"{part}.py"]


@pytest.mark.parametrize("part", LAYERS)
def test_a_part_imports_only_the_parts_below_it(part: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(part)])
    wrong = []
    for path in _modules(part):
        for name in _imported(path):
            pieces = name.split(".")
            if pieces[:2] != ["rckit", "conformance"]:
                continue  # spec, platforms, reference: below every part
            target = pieces[2] if len(pieces) > 2 else "conformance"
            if target not in allowed | {part, "SUITE", "conformance"}:
                wrong.append(f"{path.relative_to(CONFORMANCE)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_every_part_is_in_a_layer() -> None:
    parts = {_part(path) for path in CONFORMANCE.rglob("*.py")} - {"__init__", "__main__"}
    assert parts == set(LAYERS), parts ^ set(LAYERS)


def test_the_agent_imports_nothing_of_the_kit() -> None:
    """It runs in the candidate's interpreter, staged as _rckit_agent: its modules find each other
    by relative imports only, and no rckit package is there to import."""
    offenders = [f"{path.name}: {names}" for path in _modules("agent") if (names := _imported(path))]
    assert not offenders, offenders
