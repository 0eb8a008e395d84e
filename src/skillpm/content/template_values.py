"""Rendering vars into template text and into data (settings values, fragment claims).

Imported only when something is rendered: Jinja2 stays off the start-up path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from jinja2 import Undefined

from skillpm.content.template_sandbox import BoundedEnvironment, compile_template, render, track

# A value that is one ``{{ expression }}`` and nothing else: it keeps the expression's type.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{).)+)\}\}\s*$", re.S)
K = TypeVar("K")


def plain(value: Any, *, coerce: bool = False) -> Any:
    """A template's value as plain lists and dicts.

    ``coerce`` (settings.json, which takes nothing else): keys, and leaves other than text,
    numbers, true/false and null, become text. Otherwise they are kept for the caller to refuse.
    """
    if isinstance(value, Mapping):
        return {(str(k) if coerce else k): plain(v, coerce=coerce) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, coerce=coerce) for v in value]
    if not coerce or value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class ValueRenderer(Generic[K]):
    """Renders template text, and data whose strings may be templates, with one project's vars.

    In data, a string that is one ``{{ expression }}`` gives the expression's value (a list
    stays a list), other text with template syntax renders to text, anything else is kept.
    Every failure goes to ``on_error(exc, key, line)``: ``key`` and ``line`` are the caller's
    (what is rendered, and where its source starts), and it returns the caller's own error,
    raised in the template error's place (fragments and settings word them differently).
    """

    def __init__(
        self,
        variables: Mapping[str, Any],
        on_error: Callable[[Exception, K, int], Exception],
        *,
        coerce: bool = False,
    ) -> None:
        self._env = BoundedEnvironment()
        self._captured: list[Any] = []
        self._env.filters["_skillpm_capture"] = self._capture
        self._context = {"vars": track(dict(variables))}
        self._on_error = on_error
        self._coerce = coerce

    def _capture(self, value: Any) -> str:
        if isinstance(value, Undefined):
            str(value)  # raises MissingVariable, naming what is missing
        self._captured.append(value)
        return ""

    def text(self, source: str, key: K, line: int = 1) -> str:
        try:
            template = compile_template(self._env, source)
            return render(self._env, template, self._context)
        except Exception as exc:  # any template failure is the author's: the caller words it
            raise self._on_error(exc, key, line) from None

    def value(self, value: Any, key: K, line: int = 1) -> Any:
        if isinstance(value, Mapping):
            return {k: self.value(v, key, line) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, key, line) for v in value]
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        single = _SINGLE_EXPRESSION.match(value)
        if single is None:
            return self.text(value, key, line)
        self._captured.clear()
        self.text("{{ (" + single["expr"] + ") | _skillpm_capture }}", key)
        return plain(self._captured[0], coerce=self._coerce) if self._captured else None
