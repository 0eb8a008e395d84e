"""A package's settings piece and claudeignore lines: read, check, render with vars.

``settings.json`` in a package is a JSON object deep-merged into the project's
``.claude/settings.json``. Its string values may be Jinja2 templates over
``vars`` from skills.yaml, rendered in the same bounded sandbox as fragments:
a value that is one ``{{ expression }}`` keeps the expression's type, and a
value that renders to nothing (``none`` or an empty string) is left out, which
is how a package offers optional settings::

    {"env": {"AWS_REGION": "{{ vars.aws.region }}",
             "ANTHROPIC_DEFAULT_SONNET_MODEL": "{{ vars.get('bedrock', {}).get('sonnet_model') }}"}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skillpm.content.settings_merge import flatten, shown
from skillpm.errors import ManifestError
from skillpm.formats import claudeignore
from skillpm.formats.index import PackageManifest
from skillpm.jsonedit import MAX_DEPTH

MAX_SETTINGS_BYTES = 64 * 1024
# Keys whose values Claude Code runs as shell commands: shown on install, so
# nobody gets one without seeing it.
COMMAND_KEYS = ("/apiKeyHelper", "/awsAuthRefresh", "/awsCredentialExport", "/statusLine")
COMMAND_PREFIXES = ("/hooks/", "/otelHeadersHelper")


def load_settings(root: Path, manifest: PackageManifest, where: str) -> dict[str, Any] | None:
    """The package's settings piece (still a template), or None."""
    if manifest.settings is None:
        return None
    path = root / manifest.settings
    at = f"{where}: settings {manifest.settings}"
    try:
        raw = path.read_bytes()
    except OSError:
        raise ManifestError(f"{at}: file not found") from None
    if len(raw) > MAX_SETTINGS_BYTES:
        raise ManifestError(f"{at}: larger than {MAX_SETTINGS_BYTES // 1024} KiB")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ManifestError(f"{at}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{at}: must hold a JSON object, like .claude/settings.json")
    if _depth(data) > MAX_DEPTH - 1:  # merged under the project's own top-level object
        raise ManifestError(f"{at}: nested deeper than {MAX_DEPTH - 1} levels")
    if not flatten(data):
        raise ManifestError(f"{at}: sets nothing")
    return data


def _depth(value: Any) -> int:
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend(
                (v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def check_pieces(root: Path, manifest: PackageManifest, where: str) -> None:
    """What ``publish`` checks: the JSON parses, templates compile, lines are sane."""
    template = load_settings(root, manifest, where)
    if template is not None:
        from skillpm.content import template_sandbox as sandbox

        env = sandbox.BoundedEnvironment()
        for ptr, value in flatten(template).items():
            for text in _strings(value):
                if "{{" in text or "{%" in text:
                    try:
                        sandbox.compile_template(env, text)
                    except sandbox.TemplateSyntaxError as exc:
                        raise ManifestError(
                            f"{where}: settings {shown(ptr)}: template syntax error: {exc.message}"
                        ) from None
    for line in manifest.claudeignore:
        problem = claudeignore.check_line(line)
        if problem:
            raise ManifestError(f"{where}: claudeignore line {line!r} {problem}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return []


def _failure(exc: Exception, at: str, line: int) -> ManifestError:
    """A template failure in a settings value (``at`` names the package and key)."""
    from skillpm.content import template_sandbox as sandbox

    if isinstance(exc, sandbox.MissingVariable):
        if exc.path.startswith("vars"):
            problem = f"{exc.path} is not set; add it under vars: in skills.yaml"
        else:
            problem = f"the template uses {exc.path!r}; templates can only read vars"
    elif isinstance(exc, sandbox.TemplateSyntaxError):
        problem = f"template syntax error: {exc.message}"
    elif isinstance(
        exc, sandbox.TemplateLimit | sandbox.SecurityError | RecursionError | MemoryError
    ):
        problem = f"the template was stopped ({exc})"
    else:  # any other template failure is the author's
        problem = f"the template failed ({type(exc).__name__}: {exc})"
    return ManifestError(f"{at}: {problem}")


def render_settings(
    template: Mapping[str, Any], package: str, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The leaves a package sets with these vars (pointer -> value), templates rendered."""
    renderer = None
    if any("{{" in s or "{%" in s for s in _strings(dict(template))):
        from skillpm.content.template_values import ValueRenderer

        renderer = ValueRenderer(variables, _failure, coerce=True)
    leaves: dict[str, Any] = {}
    for ptr, raw in flatten(template).items():
        at = f"{package}: settings {shown(ptr)}"
        value = renderer.value(raw, at) if renderer else raw
        if value is None or value == "":
            continue  # an optional setting whose variable is not set
        if ptr.startswith("/env/") and not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ManifestError(
                    f"{package}: settings {shown(ptr)}: env values must be text, got {value!r}"
                )
            value = str(value)
        leaves[ptr] = value
    return leaves


def is_command(ptr: str) -> bool:
    """Whether Claude Code runs the value at ``ptr`` as a shell command."""
    return ptr in COMMAND_KEYS or ptr.startswith(COMMAND_PREFIXES)
