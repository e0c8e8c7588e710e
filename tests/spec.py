"""A small validator of JSON against the published spec's structure (Swagger 2.0 subset)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

SPEC_PATH = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "hcp-api-spec"
    / "packer-2023-01-01.json"
)


def find_spec() -> Path:
    """shared/ sits beside the clone (CI and development); fall back to a vendored copy."""
    candidates = [SPEC_PATH, Path(__file__).resolve().parent / "data" / "packer-2023-01-01.json"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError("packer-2023-01-01.json not found beside the repo or in tests/data")


SPEC: dict[str, Any] = json.loads(find_spec().read_text())


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["definitions"][schema["$ref"].split("/")[-1]]
    return schema


def validate(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    schema = resolve(schema)
    if value is None:
        return []  # proto JSON: null is "unset" (Packer sends "artifacts": null)
    problems: list[str] = []
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in enum")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{where}: expected object, got {type(value).__name__}"]
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if props is not None and key in props:
                problems += validate(item, props[key], f"{where}.{key}")
            elif isinstance(extra, dict):
                problems += validate(item, extra, f"{where}.{key}")
            elif props is not None and extra is not True:
                problems.append(f"{where}: field {key!r} is not in the spec")
    elif kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected array"]
        for i, item in enumerate(value):
            problems += validate(item, schema.get("items", {}), f"{where}[{i}]")
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{where}: expected string (int64 travels as a string), got {value!r}")
        elif schema.get("format") == "date-time":
            try:
                datetime.fromisoformat(value)
                assert re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value
                )
            except (ValueError, AssertionError):
                problems.append(f"{where}: {value!r} is not RFC 3339")
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{where}: expected boolean")
    elif kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        problems.append(f"{where}: expected integer")
    return problems


def template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    )


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The spec operation a concrete request path belongs to (literal segments win)."""
    matches = [
        (t, ops[method.lower()])
        for t, ops in SPEC["paths"].items()
        if method.lower() in ops and template_regex(t).fullmatch(path)
    ]
    if not matches:
        return None
    matches.sort(key=lambda m: m[0].count("{"))
    return matches[0]
