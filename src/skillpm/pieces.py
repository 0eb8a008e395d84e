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
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skillpm import claudeignore
from skillpm.clientlib import PackageManifest
from skillpm.errors import ManifestError
from skillpm.jsonedit import MAX_DEPTH
from skillpm.settings_plan import flatten, shown

MAX_SETTINGS_BYTES = 64 * 1024
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)+)\}\}\s*$", re.S)
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
        from skillpm import template_sandbox as sandbox

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


class _Renderer:
    def __init__(self, package: str, variables: Mapping[str, Any]) -> None:
        from skillpm import template_sandbox as sandbox

        self.sandbox = sandbox
        self.package = package
        self.env = sandbox.BoundedEnvironment()
        self.captured: list[Any] = []
        self.env.filters["_skillpm_capture"] = self._capture
        self.context = {"vars": sandbox.track(dict(variables))}

    def _capture(self, value: Any) -> str:
        if isinstance(value, self.sandbox.Undefined):
            str(value)  # raises MissingVariable, naming the variable
        self.captured.append(value)
        return ""

    def _run(self, ptr: str, source: str) -> str:
        sandbox = self.sandbox
        at = f"{self.package}: settings {shown(ptr)}"
        try:
            template = sandbox.compile_template(self.env, source)
            return str(sandbox.render(self.env, template, self.context))
        except sandbox.MissingVariable as exc:
            if exc.path.startswith("vars"):
                problem = f"{exc.path} is not set; add it under vars: in skills.yaml"
            else:
                problem = f"the template uses {exc.path!r}; templates can only read vars"
        except sandbox.TemplateSyntaxError as exc:
            problem = f"template syntax error: {exc.message}"
        except (sandbox.TemplateLimit, sandbox.SecurityError, RecursionError, MemoryError) as exc:
            problem = f"the template was stopped ({exc})"
        except Exception as exc:  # any other template failure is the author's
            problem = f"the template failed ({type(exc).__name__}: {exc})"
        raise ManifestError(f"{at}: {problem}")

    def value(self, ptr: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self.value(ptr, v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(ptr, v) for k, v in value.items()}
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        single = _SINGLE.match(value)
        if single is None:
            return self._run(ptr, value)
        self.captured.clear()
        self._run(ptr, "{{ (" + single["expr"] + ") | _skillpm_capture }}")
        return _plain(self.captured[0]) if self.captured else None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def render_settings(
    template: Mapping[str, Any], package: str, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The leaves a package sets with these vars (pointer -> value), templates rendered."""
    templated = any("{{" in s or "{%" in s for s in _strings(dict(template)))
    renderer = _Renderer(package, variables) if templated else None
    leaves: dict[str, Any] = {}
    for ptr, raw in flatten(template).items():
        value = renderer.value(ptr, raw) if renderer else raw
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
