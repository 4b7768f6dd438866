"""Reading the kit's JSON files (reports, expectations) and checking them against their schemas,
with errors that name the file, the place in it and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

__all__ = ["SCHEMAS", "JsonFileError", "read_checked"]

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


class JsonFileError(ValueError):
    """A file that cannot be used: unreadable, not JSON, or not in its schema's shape."""


def read_checked(path: Path, schema: str, name: str | None = None, what: str | None = None, shown: int = 10) -> Any:
    """The JSON of ``path`` (named ``name`` in messages), valid against ``schemas/<schema>``;
    :class:`JsonFileError` says ``what`` the file is not and lists its first ``shown`` problems,
    each at its path in the document."""
    name = name or str(path)
    what = what or f"does not match {schema}"
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise JsonFileError(f"{name}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise JsonFileError(f"{name}: not JSON ({exc})") from None
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMAS / schema).read_text()))
    problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}" for e in problems[:shown]]
        raise JsonFileError(f"{name}: {what}:\n  " + "\n  ".join(lines))
    return data
