"""What the action (and the Packer simulator) needs from an HCL2 template, read with python-hcl2.

python-hcl2 keeps the quotes of string literals and returns expressions as text; `literal()`
is the one place that tells them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcp_action.errors import InputError

_QUOTED = re.compile(r'^"((?:[^"\\$]|\\.|\$(?!\{))*)"$')


def literal(value: Any) -> str | None:
    """The string a plain HCL string literal holds; None for expressions and interpolations."""
    if isinstance(value, str):
        match = _QUOTED.fullmatch(value)
        if match:
            return match.group(1).replace('\\"', '"').replace("\\\\", "\\")
    return None


def _key(value: str) -> str:
    return literal(value) or value


@dataclass(frozen=True, slots=True)
class Source:
    type: str
    name: str
    body: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def component_type(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    files: tuple[Path, ...]
    hcp_enabled: bool
    bucket_name: str | None
    bucket_expression: str | None  # set when bucket_name is not a literal
    description: str
    bucket_labels: dict[str, str]
    build_labels: dict[str, str]
    build_count: int
    sources: tuple[Source, ...]  # those of the build block, with build-level name overrides
    variable_defaults: dict[str, Any]
    channels: tuple[str, ...] | None = None  # hcp_packer_registry.channels (Packer >= 1.15)
    # (bucket, channel) each hcp-packer-version/-artifact data source reads, literals only: the
    # parent images this build starts from.
    parent_channels: tuple[tuple[str, str], ...] = ()


def template_files(path: Path) -> tuple[Path, ...]:
    if path.is_dir():
        files = tuple(sorted(p for p in path.glob("*.pkr.hcl") if p.is_file()))
        if not files:
            raise InputError(
                "template",
                f"directory '{path}' holds no *.pkr.hcl file",
                fix="point template at a .pkr.hcl file or a directory of them.",
            )
        return files
    if path.name.endswith(".pkr.json") or path.suffix == ".json":
        raise InputError(
            "template",
            "JSON templates are not supported",
            fix="convert it with 'packer hcl2_upgrade'.",
        )
    return (path,)


def _blocks(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    value = doc.get(kind) or []
    return [b for b in value if isinstance(b, dict)]


def _labels(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {_key(k): literal(v) or str(v) for k, v in raw.items() if k != "__is_block__"}


def _inside(files: tuple[Path, ...], workspace: Path, input_name: str) -> None:
    """Every file read must resolve (symlinks followed) inside the workspace; its content is
    never quoted otherwise (a parse error would print it)."""
    root = workspace.resolve()
    for file in files:
        if not file.resolve().is_relative_to(root):
            raise InputError(
                input_name,
                f"'{file.name}' resolves outside the workspace (a symbolic link?)",
                fix="keep template files inside the repository; replace the link by the file.",
            )


def _channels(registry: dict[str, Any]) -> tuple[str, ...] | None:
    raw = registry.get("channels")
    if raw is None:
        return None
    return tuple(literal(c) or str(c) for c in (raw if isinstance(raw, list) else [raw]))


def read(path: Path, input_name: str = "template", workspace: Path | None = None) -> TemplateInfo:
    import hcl2  # noqa: PLC0415 - 0.1 s of import, paid only where a template is read

    files = template_files(path)
    if workspace is not None:
        _inside(files, workspace, input_name)
    registries: list[dict[str, Any]] = []
    builds: list[dict[str, Any]] = []
    sources: dict[str, Source] = {}
    defaults: dict[str, Any] = {}
    parents: set[tuple[str, str]] = set()
    for file in files:
        try:
            with file.open(encoding="utf-8") as handle:
                doc = hcl2.load(handle)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                input_name, f"cannot read '{file}': {exc}", fix="check the path and permissions."
            ) from None
        except Exception as exc:  # python-hcl2 raises lark errors of many kinds
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                input_name,
                f"'{file.name}' is not valid HCL2: {first}",
                fix="run 'packer validate' on it locally.",
            ) from None
        registries += _blocks(doc, "hcp_packer_registry")
        builds += _blocks(doc, "build")
        for block in _blocks(doc, "source"):
            for type_key, named in block.items():
                for name_key, body in (named or {}).items():
                    src = Source(
                        _key(type_key), _key(name_key), body if isinstance(body, dict) else {}
                    )
                    sources[src.component_type] = src
        for block in _blocks(doc, "data"):
            for type_key, named in block.items():
                if _key(type_key) not in {"hcp-packer-version", "hcp-packer-artifact"}:
                    continue
                for body in (named or {}).values():
                    if not isinstance(body, dict):
                        continue
                    bucket_name = literal(body.get("bucket_name"))
                    channel_name = literal(body.get("channel_name"))
                    if bucket_name and channel_name:
                        parents.add((bucket_name, channel_name))
        for block in _blocks(doc, "variable"):
            for name_key, body in block.items():
                if isinstance(body, dict) and "default" in body:
                    defaults[_key(name_key)] = body["default"]

    nested = [r for b in builds for r in _blocks(b, "hcp_packer_registry")]
    if registries and nested:
        raise InputError(
            input_name,
            "has hcp_packer_registry both at top level and in build",
            fix="keep only the top-level block.",
        )
    registry = (registries or nested or [{}])[0]
    raw_bucket = registry.get("bucket_name")
    bucket = literal(raw_bucket) if raw_bucket is not None else None
    expression = str(raw_bucket) if raw_bucket is not None and bucket is None else None

    build_sources: list[Source] = []
    if len(builds) == 1:
        build = builds[0]
        for ref in build.get("sources") or []:
            name = (literal(ref) or str(ref)).removeprefix("source.")
            if name in sources:
                build_sources.append(sources[name])
        for block in _blocks(build, "source"):
            for ref_key, body in block.items():
                ref = _key(ref_key).removeprefix("source.")
                base = sources.get(ref)
                override = literal(body.get("name")) if isinstance(body, dict) else None
                if base is None:
                    continue
                merged = {**base.body, **(body if isinstance(body, dict) else {})}
                build_sources.append(Source(base.type, override or base.name, merged))

    return TemplateInfo(
        files=files,
        hcp_enabled=bool(registries or nested),
        bucket_name=bucket,
        bucket_expression=expression,
        description=literal(registry.get("description")) or "",
        bucket_labels=_labels(registry.get("bucket_labels") or registry.get("labels")),
        build_labels=_labels(registry.get("build_labels")),
        build_count=len(builds),
        sources=tuple(build_sources),
        variable_defaults=defaults,
        channels=_channels(registry),
        parent_channels=tuple(sorted(parents)),
    )
