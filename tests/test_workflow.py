"""The CI workflow: actionlint finds nothing in it, and the nox sessions it runs are noxfile.py's.

No YAML parser is needed: actionlint parses the workflow, and the session check reads the
``nox ... -s NAME ...`` command lines as text and noxfile.py through ``ast`` (nox itself need not
be installed)."""

from __future__ import annotations

import ast
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
NOXFILE = ROOT / "noxfile.py"

# ``nox [options] -s A B ...`` (also ``-e``, ``--session``, ``--sessions``) anywhere on a line.
NOX_SESSIONS = re.compile(r"\bnox\b[^\n#]*?\s(?:-s|-e|--sessions?)\s+(?P<args>[^\n]*)")
MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.(?P<key>[A-Za-z_][\w-]*)\s*\}\}")
SESSION_NAME = re.compile(r"(?P<base>[\w-]+)(?:\((?P<param>[^()]*)\))?")
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ")", "\\"}


def _actionlint() -> str:
    """The actionlint executable: the one installed beside this interpreter, else on PATH."""
    name = "actionlint.exe" if sys.platform == "win32" else "actionlint"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("actionlint")
    if found is None:
        pytest.fail(
            f"actionlint is not installed: it is neither in {beside.parent} nor on PATH. "
            "It comes with the test extra (pip install -e '.[test]'); without it the CI "
            "workflow goes unchecked.",
            pytrace=False,
        )
    return found


def _literal(node: ast.expr, constants: dict[str, object]) -> object:
    """The value of a literal or of a module-level constant's name."""
    if isinstance(node, ast.Name):
        if node.id not in constants:
            raise AssertionError(f"noxfile.py: {node.id} is not a module-level literal")
        return constants[node.id]
    return ast.literal_eval(node)


def _dotted(node: ast.expr) -> str:
    """``nox.session`` for the expression ``nox.session`` (and for ``nox.session(...)``)."""
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _noxfile() -> tuple[dict[str, list[str] | None], list[str]]:
    """noxfile.py's sessions (name -> parameter ids, None when not parametrized) and its
    default sessions (``nox.options.sessions``)."""
    tree = ast.parse(NOXFILE.read_text(encoding="utf-8"), filename=str(NOXFILE))
    constants: dict[str, object] = {}
    defaults: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name):
            try:
                constants[target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue
        elif _dotted(target) == "nox.options.sessions":
            defaults = [str(name) for name in _as_list(_literal(node.value, constants))]
    sessions: dict[str, list[str] | None] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        decorators = node.decorator_list
        session = next((d for d in decorators if _dotted(d) == "nox.session"), None)
        if session is None:
            continue
        name = node.name
        if isinstance(session, ast.Call):
            for keyword in session.keywords:
                if keyword.arg == "name":
                    name = str(_literal(keyword.value, constants))
        ids: list[str] | None = None
        for decorator in decorators:
            if isinstance(decorator, ast.Call) and _dotted(decorator) == "nox.parametrize":
                given = {k.arg: k.value for k in decorator.keywords}
                source = given.get("ids", decorator.args[1] if len(decorator.args) > 1 else None)
                if source is None:
                    raise AssertionError(f"noxfile.py: {name} is parametrized without ids")
                ids = [str(value) for value in _as_list(_literal(source, constants))]
        sessions[name] = ids
    return sessions, defaults


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list | tuple):
        raise AssertionError(f"noxfile.py: expected a list, got {value!r}")
    return list(value)


def _matrix_values(text: str, key: str) -> set[str]:
    """Every literal value the workflow gives matrix key ``key`` (``key: [a, b]`` or
    ``key: a``, including ``include`` entries)."""
    values: set[str] = set()
    line = re.compile(rf"^\s*(?:-\s+)?{re.escape(key)}:[ \t]*(?P<raw>\S.*?)\s*$", re.M)
    for match in line.finditer(text):
        raw = match.group("raw")
        items = raw[1:-1].split(",") if raw.startswith("[") and raw.endswith("]") else [raw]
        values.update(item.strip().strip("'\"") for item in items)
    return {value for value in values if value and "${{" not in value}


def _expand(token: str, values: dict[str, str]) -> str:
    """``token`` with each ``${{ matrix.KEY }}`` replaced by ``values[KEY]``."""
    return MATRIX_REF.sub(lambda ref: values[ref.group("key")], token)


def _invoked(text: str) -> list[str]:
    """The session names the workflow passes to nox, with matrix references expanded."""
    names: list[str] = []
    for match in NOX_SESSIONS.finditer(text):
        for token in shlex.split(match.group("args"), comments=True):
            if token in SHELL_OPERATORS or token.startswith("-"):
                break
            keys = sorted(set(MATRIX_REF.findall(token)))
            choices = []
            for key in keys:
                found = sorted(_matrix_values(text, key))
                assert found, f"{WORKFLOW.name}: no literal values for matrix.{key} in {token!r}"
                choices.append(found)
            for combination in itertools.product(*choices):
                names.append(_expand(token, dict(zip(keys, combination, strict=True))))
    return names


def test_actionlint_finds_nothing() -> None:
    relative = WORKFLOW.relative_to(ROOT).as_posix()
    result = subprocess.run(
        [_actionlint(), "-no-color", relative],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"actionlint (exit {result.returncode}):\n{findings}"
    assert not findings, f"actionlint printed:\n{findings}"


def test_the_helpers_read_what_the_workflow_writes() -> None:
    text = (
        "    strategy:\n      matrix:\n        arch: [i386, arm64]\n        include:\n"
        "          - arch: s390x\n    env:\n      ARCH: ${{ matrix.arch }}\n"
        "      - run: nox -s lint tests\n"
        "      - run: python3.11 -m nox --sessions 'conformance(host)' -- -x  # nox -s nothing\n"
        '      - run: sudo -E env PATH="$PATH" nox -s "chroot(${{ matrix.arch }})" && echo ok\n'
        "      - run: python -m pip install nox\n"
    )
    assert _invoked(text) == [
        "lint",
        "tests",
        "conformance(host)",
        "chroot(arm64)",
        "chroot(i386)",
        "chroot(s390x)",
    ]


def test_every_session_the_workflow_runs_exists() -> None:
    sessions, _ = _noxfile()
    invoked = _invoked(WORKFLOW.read_text(encoding="utf-8"))
    assert invoked, f"{WORKFLOW.name} runs no nox session"
    unknown = []
    for name in invoked:
        match = SESSION_NAME.fullmatch(name)
        base = match.group("base") if match else name
        param = match.group("param") if match else None
        ids = sessions.get(base, [])
        if base not in sessions or (param is not None and (ids is None or param not in ids)):
            unknown.append(name)
    assert not unknown, f"{WORKFLOW.name} runs sessions noxfile.py does not define: {unknown}"


def test_the_workflow_runs_every_ci_session() -> None:
    sessions, defaults = _noxfile()
    arches = sessions.get("chroot") or []
    assert defaults, "noxfile.py sets no nox.options.sessions"
    assert arches, "noxfile.py has no parametrized chroot session"
    required = {*defaults, "conformance(host)", *(f"chroot({arch})" for arch in arches)}
    missing = required - set(_invoked(WORKFLOW.read_text(encoding="utf-8")))
    assert not missing, f"{WORKFLOW.name} does not run {sorted(missing)}"
