"""Reading a cloud assembly as CloudFormation will deploy it: every stack, nested stacks included.

For each template the assembly's ``manifest.json`` gives the stack's environment (a literal account and
region, or ``unknown-account``/``unknown-region`` for an environment-agnostic stack) and its metadata
(the construct path of every resource). A nested stack's template is a file asset of its parent: the
parent's ``AWS::CloudFormation::Stack`` has a ``TemplateURL`` ending in ``<hash>.json``, and an
``*.assets.json`` beside the template maps that hash to the file. Where no asset manifest names it, the
metadata's ``aws:cdk:templateFile`` entry for the nested stack's construct path does.

Everything here is best effort over files a user may have moved: what cannot be read is left out, and
the rules then treat what it would have defined as defined outside the app (undecided), never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

NESTED_STACK = "AWS::CloudFormation::Stack"
_ACCOUNT = re.compile(r"^\d{12}$")
_NESTED_RESOURCE_PATH = re.compile(r"^(?P<stack>.*)\.NestedStack/[^/]+\.NestedStackResource$")


@dataclass(frozen=True)
class StackInfo:
    """What the assembly says of one template, beside the template itself."""

    account: str | None = None
    region: str | None = None
    #: logical id → construct path, for the resources of this template only.
    construct_paths: Mapping[str, str] = field(default_factory=dict)
    #: construct path of a nested stack → its template file (relative to the assembly directory).
    nested_templates: Mapping[str, str] = field(default_factory=dict)
    #: the construct path of the stack itself, when the metadata gives it.
    path: str | None = None
    #: the name CloudFormation deploys the stack as (``stackName``; a nested stack's is generated).
    stack_name: str | None = None


def read_json(path: Path) -> Any:
    """A JSON file, or None when it is missing or not JSON."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def environment(spec: Any) -> tuple[str | None, str | None]:
    """``aws://<account>/<region>`` as literal values; None for what the stack leaves to deploy time."""
    if not isinstance(spec, str) or not spec.startswith("aws://"):
        return None, None
    account, _, region = spec.removeprefix("aws://").partition("/")
    return (
        account if _ACCOUNT.match(account) else None,
        region if region and not region.startswith("unknown-") else None,
    )


def stack_infos(directory: Path) -> dict[str, StackInfo]:
    """Template file name → :class:`StackInfo`, for every template an assembly directory describes."""
    return dict(_stack_infos(directory.resolve()))


@cache
def _cached_manifest(directory: Path, stamp: float) -> Any:
    return read_json(directory / "manifest.json")


def _manifest(directory: Path) -> Any:
    try:
        stamp = (directory / "manifest.json").stat().st_mtime
    except OSError:
        return None
    return _cached_manifest(directory, stamp)


def _stack_infos(directory: Path) -> Iterator[tuple[str, StackInfo]]:
    manifest = _manifest(directory)
    artifacts = manifest.get("artifacts") if isinstance(manifest, Mapping) else None
    for artifact_id, artifact in (artifacts or {}).items():
        if not isinstance(artifact, Mapping) or artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties") or {}
        template_file = properties.get("templateFile")
        if not isinstance(template_file, str):
            continue
        account, region = environment(artifact.get("environment"))
        metadata = _metadata(directory, artifact)
        name = properties.get("stackName", artifact_id)  # the artifact's id, unless it names another
        for file, info in _split_metadata(template_file, metadata, account, region):
            top = file == template_file and isinstance(name, str)
            yield file, replace(info, stack_name=name) if top else info


def _metadata(directory: Path, artifact: Mapping[str, Any]) -> Mapping[str, Any]:
    inline = artifact.get("metadata")
    extra = artifact.get("additionalMetadataFile")
    from_file = read_json(directory / extra) if isinstance(extra, str) else None
    merged: dict[str, Any] = {}
    for source in (inline, from_file):
        if isinstance(source, Mapping):
            for path, entries in source.items():
                if isinstance(entries, list):
                    merged.setdefault(path, []).extend(entries)
    return merged


def _split_metadata(
    template_file: str, metadata: Mapping[str, Any], account: str | None, region: str | None
) -> Iterator[tuple[str, StackInfo]]:
    """One :class:`StackInfo` per template of a stack artifact: the stack's and each nested stack's."""
    template_of_path: dict[str, str] = {}
    logical_ids: list[tuple[str, str]] = []
    for path, entries in metadata.items():
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            data = entry.get("data")
            if entry.get("type") == "aws:cdk:templateFile" and isinstance(data, str):
                template_of_path[path] = data
            elif entry.get("type") == "aws:cdk:logicalId" and isinstance(data, str):
                logical_ids.append((path, data))
    if not template_of_path:
        yield template_file, StackInfo(account, region)
        return
    # Longest prefix first: a resource belongs to the innermost (nested) stack that contains its path.
    owners = sorted(template_of_path, key=len, reverse=True)
    paths: dict[str, dict[str, str]] = {file: {} for file in template_of_path.values()}
    for path, logical_id in logical_ids:
        owner = next((o for o in owners if path.startswith(o + "/")), None)
        if owner is not None:
            paths[template_of_path[owner]][logical_id] = path
    for owner, file in template_of_path.items():
        nested = {
            other: nested_file
            for other, nested_file in template_of_path.items()
            if other.startswith(owner + "/")
        }
        yield file, StackInfo(account, region, paths[file], nested, owner)


def asset_files(directory: Path, first: str | None = None) -> dict[str, str]:
    """File asset hash → source path, from every asset manifest in an assembly directory; where two
    manifests name one hash, the manifest ``first`` (a file name) wins."""
    found: dict[str, str] = {}
    manifests = sorted(directory.glob("*.assets.json"), key=lambda m: (m.name == first, m.name))
    for manifest in manifests:
        files = (read_json(manifest) or {}).get("files")
        for asset_hash, asset in (files or {}).items() if isinstance(files, Mapping) else ():
            source = asset.get("source") if isinstance(asset, Mapping) else None
            if isinstance(source, Mapping) and isinstance(source.get("path"), str):
                found[asset_hash] = source["path"]
    return found


def nested_template_file(
    template_url_text: str,
    resource_path: str | None,
    assets: Callable[[], Mapping[str, str]],
    nested_templates: Mapping[str, str],
) -> str | None:
    """The file of a nested stack: the metadata's file for its construct path, else the asset whose hash
    its ``TemplateURL`` (``template_url_text``, its literal parts) ends in. The construct path comes first:
    two nested stacks with the same content (one construct in two parents) share one hash."""
    match = _NESTED_RESOURCE_PATH.match(resource_path or "")
    if match is not None and match.group("stack") in nested_templates:
        return nested_templates[match.group("stack")]
    name = template_url_text.rsplit("/", 1)[-1].removesuffix(".json")
    return assets().get(name) if template_url_text.endswith(".json") else None


def stack_name(template_path: str | Path) -> str:
    """A stack's name as the model uses it: the template's file name without its suffixes."""
    return Path(template_path).name.removesuffix(".template.json").removesuffix(".nested")


def unique(paths: Sequence[str]) -> list[Path]:
    """The paths, resolved, each once, in order."""
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(Path(path).resolve(), None)
    return list(seen)
