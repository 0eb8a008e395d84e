"""A Jinja2 sandbox with a work budget, for fragment templates from any registry.

Jinja2's ``SandboxedEnvironment`` stops a template from reaching Python
internals, but not from looping forever or building a gigabyte string. Here
every way a template can do much work is charged against one budget per render
(loop iterations and their literal text, values printed, operands compared,
joined or repeated, filter and method inputs), and the operations that could
allocate more than they were given (``*``, ``**``, ``~``, ``+``, padding and
joining filters) are refused before they run when the result would be too big.
Filters that make output nondeterministic (``random``) or format strings with
arbitrary widths (``format``, ``%``) are not available. The rendered output is
streamed and capped.

Imported only when a fragment is rendered: Jinja2 stays off the start-up path.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace, missing, pass_environment, pass_eval_context
from jinja2.visitor import NodeTransformer

WORK_LIMIT = 1_000_000  # units: characters, items or iterations, per render
MAX_VALUE = 500_000  # characters or items in one value built by a template
MAX_OUTPUT = 256 * 1024  # characters of rendered text per fragment
MAX_INT_BITS = 4096
MAX_WIDTH = 1000  # widths given to padding filters

# Methods whose result is no bigger than their inputs (replace is checked in ``call``).
_STR_METHODS = frozenset(
    {
        *("capitalize", "casefold", "count", "endswith", "find", "index", "isalnum"),
        *("isalpha", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper"),
        *("lower", "lstrip", "partition", "removeprefix", "removesuffix", "replace"),
        *("rfind", "rindex", "rpartition", "rsplit", "rstrip", "split", "splitlines"),
        *("startswith", "strip", "swapcase", "title", "upper"),
    }
)
_DICT_METHODS = frozenset({"get", "items", "keys", "values"})
_SEQ_METHODS = frozenset({"count", "index"})
_PROBES = frozenset({"unsafe_callable", "alters_data", "jinja_pass_arg"})
_REMOVED_FILTERS = frozenset({"format", "random", "urlize", "xmlattr", "pprint"})


__all__ = [
    "MissingVariable",
    "SecurityError",
    "TemplateLimit",
    "TemplateSyntaxError",
    "Undefined",
    "compile_template",
    "render",
    "track",
]


class TemplateLimit(Exception):
    """A template that does too much work or builds too much text."""


class MissingVariable(Exception):
    """A template used a variable that ``vars`` does not define."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _join_path(base: str, key: Any) -> str:
    if isinstance(key, str) and key.replace("_", "a").replace("-", "a").isalnum():
        return f"{base}.{key}" if base else key
    return f"{base}[{key!r}]"


class _TrackedDict(dict[Any, Any]):
    """A ``vars`` mapping that knows its path, so a missing key is named in full."""

    _skillpm_path: str


class _TrackedList(list[Any]):
    _skillpm_path: str


def track(value: Any, path: str = "vars") -> Any:
    """A copy of ``value`` whose mappings and lists know their path from ``vars``."""
    if isinstance(value, Mapping):
        out: _TrackedDict | _TrackedList = _TrackedDict(
            (k, track(v, _join_path(path, k))) for k, v in value.items()
        )
    elif isinstance(value, list | tuple):
        out = _TrackedList(track(v, f"{path}[{i}]") for i, v in enumerate(value))
    else:
        return value
    out._skillpm_path = path
    return out


class _Missing(StrictUndefined):
    """StrictUndefined that reports the full path, e.g. ``vars.aws.region``."""

    __slots__ = ()

    def _path(self) -> str:
        name = self._undefined_name
        if self._undefined_obj is missing:
            return str(name)
        base = getattr(self._undefined_obj, "_skillpm_path", None)
        return _join_path(base, name) if isinstance(base, str) else str(name)

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        if self._undefined_hint is None and self._undefined_name is not None:
            raise MissingVariable(self._path())
        return super()._fail_with_undefined_error(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" or name in _PROBES or name.startswith("_skillpm"):
            raise AttributeError(name)
        if self._undefined_hint is not None:  # an unsafe attribute: say so
            return self._fail_with_undefined_error()
        if name in _DICT_METHODS:  # vars.x.items(): it is x that is missing
            raise MissingVariable(self._path())
        raise MissingVariable(_join_path(self._path(), name))

    def __getitem__(self, key: Any) -> Any:
        raise MissingVariable(_join_path(self._path(), key))


# Jinja2 binds its dunder methods (__str__, __iter__, ...) to the base class's
# failure function at class creation; point them at ours.
for _name, _value in {**vars(Undefined), **vars(StrictUndefined)}.items():
    if _value is Undefined._fail_with_undefined_error and _name not in vars(_Missing):
        setattr(_Missing, _name, _Missing._fail_with_undefined_error)


def weigh(value: Any, limit: int) -> int:
    """Size of ``value`` as if fully expanded: nodes plus characters (stops at ``limit``)."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, range):
            total += len(item)
        elif isinstance(item, int):
            total += item.bit_length() // 64
        elif isinstance(item, Namespace):
            with contextlib.suppress(AttributeError):
                stack.append(dict(object.__getattribute__(item, "_Namespace__attrs")))
        if total > limit:
            raise TemplateLimit("a value too large to handle")
    return total


class BoundedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=_Missing,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=self._finalize,
        )
        self.left = WORK_LIMIT
        self.globals = {
            "range": self._range,
            "dict": dict,
            "namespace": Namespace,
        }
        self._guard_filters()
        self.tests = {name: self._guard(test) for name, test in dict(self.tests).items()}

    # -- the budget ----------------------------------------------------------
    def reset(self) -> None:
        self.left = WORK_LIMIT

    def charge(self, units: int) -> None:
        self.left -= max(units, 1)
        if self.left < 0:
            raise TemplateLimit(f"the template does more than {WORK_LIMIT:,} steps of work")

    def charge_value(self, value: Any) -> int:
        size = weigh(value, max(self.left, 0) + 1)
        self.charge(size)
        return size

    def _check_size(self, size: int, what: str) -> None:
        if size > MAX_VALUE:
            raise TemplateLimit(f"{what} would be over {MAX_VALUE:,} characters or items")
        self.charge(size)

    def _finalize(self, value: Any) -> Any:
        self.charge_value(value)
        return value

    def _range(self, *args: int) -> range:
        rng = range(*args)
        self._check_size(len(rng), "range()")
        return rng

    # -- operators, attributes and calls -----------------------------------
    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        seq = str | list | tuple  # type: ignore[type-arg]
        if operator == "+" and isinstance(left, seq) and isinstance(right, seq):
            self._check_size(len(left) + len(right), "joining these values")
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, seq):
                left, right = right, left
            if isinstance(left, seq) and isinstance(right, int):
                self._check_size(len(left) * max(right, 0), "repeating this value")
            elif (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise TemplateLimit("a number too large")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and left.bit_length() * right > MAX_INT_BITS:
                raise TemplateLimit("a number too large")
        elif operator == "%" and isinstance(left, str):
            raise TemplateLimit("the % string operator is not available; join text with ~")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format is refused by is_safe_attribute instead

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not callable(value):
            return True
        if isinstance(obj, str):
            return attr in _STR_METHODS
        if isinstance(obj, dict):
            return attr in _DICT_METHODS
        if isinstance(obj, list | tuple):
            return attr in _SEQ_METHODS
        return type(obj).__module__.startswith("jinja2.")  # loop.cycle, macros

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            __self.charge_value(value)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            __self.charge(len(owner))
            if getattr(__obj, "__name__", "") == "replace" and len(args) >= 2:
                old, new = str(args[0]), str(args[1])
                hits = owner.count(old) if old else len(owner) + 1
                __self._check_size(len(owner) + hits * len(new), "replace()")
        return super().call(__context, __obj, *args, **kwargs)

    # -- filters and tests ---------------------------------------------------
    def _guard(self, func: Any, predict: Callable[..., int] | None = None, name: str = "") -> Any:
        skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            for value in (*args[skip:], *kwargs.values()):
                self.charge_value(value)
            if predict is not None:
                self._check_size(predict(*args[skip:], **kwargs), f"the {name} filter")
            return func(*args, **kwargs)

        return guarded

    def _guard_filters(self) -> None:
        def text(v: Any) -> str:
            return v if isinstance(v, str) else str(v)

        def lines(v: Any) -> int:
            return text(v).count("\n") + 1

        def width_of(w: Any) -> int:
            if isinstance(w, int) and not 0 <= w <= MAX_WIDTH:
                raise TemplateLimit(f"a width over {MAX_WIDTH}")
            return w if isinstance(w, int) else len(text(w))

        def replace(s: Any, old: Any, new: Any, count: Any = None) -> int:
            s, old, new = text(s), text(old), text(new)
            hits = s.count(old) if old else len(s) + 1
            if isinstance(count, int) and count >= 0:
                hits = min(hits, count)
            return len(s) + hits * len(new)

        def join(value: Any, d: Any = "", attribute: Any = None) -> int:
            count = len(value) if isinstance(value, list | tuple | str) else 0
            return weigh(value, MAX_VALUE + 1) + count * len(text(d))

        def count(n: Any) -> int:
            if isinstance(n, int) and n > MAX_WIDTH:
                raise TemplateLimit(f"a count over {MAX_WIDTH}")
            return 1

        def center(value: Any, width: Any = 80) -> int:
            return len(text(value)) + width_of(width)

        def indent(s: Any, width: Any = 4, first: Any = False, blank: Any = False) -> int:
            return len(text(s)) + lines(s) * width_of(width)

        def wordwrap(
            s: Any,
            width: Any = 79,
            break_long_words: Any = True,
            wrapstring: Any = None,
            break_on_hyphens: Any = True,
        ) -> int:
            return len(text(s)) * (1 + len(text(wrapstring or "\n"))) + width_of(width)

        def batch(value: Any, linecount: Any, fill_with: Any = None) -> int:
            return count(linecount)

        def slice_(value: Any, slices: Any, fill_with: Any = None) -> int:
            return count(slices)

        def tojson(value: Any, indent: Any = None) -> int:
            return weigh(value, MAX_VALUE + 1) * (1 + width_of(indent or 0))

        def sum_(iterable: Any, attribute: Any = None, start: Any = 0) -> int:
            if not isinstance(start, int | float):
                raise TemplateLimit("sum() adds numbers only")
            return 1

        predict: dict[str, Callable[..., int]] = {
            "center": center,
            "indent": indent,
            "wordwrap": wordwrap,
            "replace": replace,
            "join": join,
            "batch": batch,
            "slice": slice_,
            "tojson": tojson,
            "sum": sum_,
        }
        self.filters = {
            name: self._guard(func, predict.get(name), name)
            for name, func in self.filters.items()
            if name not in _REMOVED_FILTERS
        }
        guarded_join = self.filters["join"]

        @pass_eval_context
        def join_bounded(ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
            # Materialise first, so the size check sees every item of a generator.
            items = []
            for item in value:
                self.charge(1)
                items.append(item)
            return guarded_join(ctx, items, d, attribute)

        self.filters["join"] = join_bounded
        self.filters["_skillpm_iter"] = _iterate
        self.filters["_skillpm_charge"] = _charge
        self.filters["_skillpm_concat"] = _concat


@pass_environment
def _iterate(env: BoundedEnvironment, value: Any, weight: int) -> Iterator[Any]:
    for item in value:
        env.charge(weight)
        yield item


@pass_environment
def _charge(env: BoundedEnvironment, value: Any) -> Any:
    env.charge_value(value)
    return value


@pass_environment
def _concat(env: BoundedEnvironment, values: list[Any]) -> str:
    env._check_size(weigh(values, MAX_VALUE + 1), "joining text with ~")
    return "".join(str(v) for v in values)


def _filter(node: nodes.Node, name: str, *args: nodes.Expr) -> nodes.Filter:
    return nodes.Filter(node, name, list(args), [], None, None, lineno=node.lineno)


class _Bounder(NodeTransformer):
    """Route loops, comparisons, slices and ``~`` through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        literal = sum(len(t.data) for t in node.find_all(nodes.TemplateData))
        node.iter = _filter(node.iter, "_skillpm_iter", nodes.Const(1 + literal))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), "_skillpm_concat")

    def visit_Compare(self, node: nodes.Compare) -> nodes.Node:
        self.generic_visit(node)
        node.expr = _filter(node.expr, "_skillpm_charge")
        for op in node.ops:
            op.expr = _filter(op.expr, "_skillpm_charge")
        return node

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        self.generic_visit(node)
        if isinstance(node.arg, nodes.Slice):
            node.node = _filter(node.node, "_skillpm_charge")
        return node


def compile_template(env: BoundedEnvironment, source: str) -> Any:
    """Parse, bound and compile ``source`` (raises jinja2's TemplateSyntaxError)."""
    tree = env.parse(source)
    bounded = _Bounder().visit(tree)
    return env.from_string(bounded)


def render(env: BoundedEnvironment, template: Any, context: Mapping[str, Any]) -> str:
    """Render with a fresh budget, streaming and capping the output."""
    env.reset()
    out: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateLimit(f"the rendered text is over {MAX_OUTPUT // 1024} KiB")
        env.charge(len(chunk))
        out.append(chunk)
    return "".join(out)
