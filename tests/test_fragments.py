"""Fragment files: frontmatter checked at the boundary, bodies rendered in a bounded sandbox."""

from __future__ import annotations

import time
from typing import Any

import pytest

from skillpm.content.fragments import MustNotTouch, Renderer, parse_fragment, render_all
from skillpm.errors import FragmentError, ManifestError
from tests.helpers import fragment_md

VARS = {
    "aws": {"region": "us-east-1", "accounts": {"prod": "123456789012", "staging": "210987654321"}},
    "must_not_touch": [{"path": "infra/vpc-stack.ts", "reason": "shared VPC; infra-team review"}],
}


def _parse(text: str, name: str = "demo") -> Any:
    return parse_fragment(text, package="pkg", version="1.0.0", where=f"fragments/{name}.md")


def _render(body: str, variables: dict[str, Any] | None = None, **meta: Any) -> Any:
    fragment = _parse(fragment_md("demo", body, **meta))
    return Renderer(VARS if variables is None else variables).render(fragment)


def test_body_renders_with_vars_under_a_section_heading() -> None:
    out = _render(
        "Region: {{ vars.aws.region }}\n"
        "{% for env, account in vars.aws.accounts.items() %}\n"
        "- {{ env }}: {{ account }}\n"
        "{% endfor %}\n\n\n",
        section="AWS environment",
    )
    assert out.content == (
        "## AWS environment\n\nRegion: us-east-1\n- prod: 123456789012\n- staging: 210987654321\n"
    )


def test_crlf_template_renders_lf_and_hash_is_stable() -> None:
    a = _render("line one\r\nline {{ vars.aws.region }}\r\n")
    b = _render("line one\nline {{ vars.aws.region }}\n")
    assert a.content == b.content == "line one\nline us-east-1\n"
    assert a.hash == b.hash


def test_claims_and_must_not_touch_may_come_from_vars() -> None:
    out = _render(
        "x",
        claims={"aws.region": "{{ vars.aws.region }}", "aws.accounts": "{{ vars.aws.accounts }}"},
        must_not_touch="{{ vars.must_not_touch }}",
    )
    assert out.claims == {"aws.region": "us-east-1", "aws.accounts": VARS["aws"]["accounts"]}
    assert out.must_not_touch == (
        MustNotTouch("infra/vpc-stack.ts", "shared VPC; infra-team review"),
    )


def test_must_not_touch_entries_may_be_templated_one_by_one() -> None:
    out = _render(
        "x", must_not_touch=[{"path": "{{ vars.aws.region }}/stack.ts", "reason": "r"}, "b.ts"]
    )
    assert out.must_not_touch == (MustNotTouch("us-east-1/stack.ts", "r"), MustNotTouch("b.ts"))


@pytest.mark.parametrize(
    ("body", "meta", "message"),
    [
        ("{{ vars.aws.region }}", {}, "demo: vars.aws.region is not set"),
        (
            "{% for a in vars.aws.accounts.items() %}{% endfor %}",
            {},
            "demo: vars.aws.accounts is not set",
        ),
        ("{{ vars.aws['dr-region'] }}", {}, "demo: vars.aws.dr-region is not set"),
        ("x", {"claims": {"a": "{{ vars.team }}"}}, "demo: vars.team is not set"),
        ("x", {"must_not_touch": "{{ vars.paths }}"}, "demo: vars.paths is not set"),
    ],
)
def test_missing_variable_names_fragment_and_variable(
    body: str, meta: dict[str, Any], message: str
) -> None:
    with pytest.raises(FragmentError) as info:
        _render(body, {"aws": {}}, **meta)
    assert str(info.value) == f"{message}; add it under vars: in skills.yaml"


def test_defaults_and_defined_tests_work_with_strict_undefined() -> None:
    out = _render(
        "{{ vars.aws.dr_region | default('none') }}"
        "{% if vars.aws.dr_region is defined %} dr{% endif %}",
        {"aws": {}},
    )
    assert out.content == "none\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (fragment_md("other", "x"), "name 'other' must equal the file name 'demo'"),
        ("no frontmatter", "missing YAML frontmatter"),
        (fragment_md("demo", "x", order="first"), "order must be a whole number"),
        (fragment_md("demo", "x", section="a\nb"), "section must be one line"),
        (fragment_md("demo", "x", claims=["a"]), "claims must map keys"),
        (fragment_md("demo", "x", claims={"bad key": 1}), "'bad key' is not a valid claim key"),
        (fragment_md("demo", "x", must_not_touch=5), "must-not-touch must be a list"),
        (fragment_md("demo", "x", paths=[""]), "paths must be a list of glob patterns"),
        ("---\nname: demo\n---\nx", "description must be a non-empty string"),
        (fragment_md("demo", "x" * 300_000), "the body is over 256 KiB"),
    ],
)
def test_bad_frontmatter_is_refused_with_the_file(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        _parse(text)
    assert str(info.value).startswith("fragments/demo.md")
    assert message in str(info.value)


def test_reserved_name_is_refused() -> None:
    with pytest.raises(ManifestError, match="reserved"):
        _parse(fragment_md("skillpm-imports", "x"), name="skillpm-imports")


def test_syntax_error_points_at_the_file_line() -> None:
    text = fragment_md("demo", "line\nline\n{% for %}\n")
    fragment = _parse(text)
    with pytest.raises(FragmentError) as info:
        Renderer({}).render(fragment)
    line = text.splitlines().index("{% for %}") + 1
    assert str(info.value).startswith(f"fragments/demo.md:{line}: template syntax error:")


def test_rendered_marker_lines_are_refused() -> None:
    with pytest.raises(FragmentError, match="holds a skillpm marker line"):
        _render("{{ vars.x }}", {"x": "<!-- skillpm:end other -->"})


def test_render_all_orders_by_order_then_name() -> None:
    frags = [_parse(fragment_md(n, n, order=o), name=n) for n, o in [("b", 5), ("a", 5), ("c", 1)]]
    assert [r.name for r in render_all(frags, {})] == ["c", "a", "b"]


@pytest.mark.parametrize(
    "body",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ 'x' * 10**9 }}",
        "{{ 2 ** 100000 }}",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}"
        "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l|string|length }}",
        "{{ 'x'|center(10**9) }}",
        "{{ 'x'.center(10**9) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ range(10000)|join('x' * 100000) }}",
        "{{ 'ab'.replace('', 'x' * 400000) }}",
        "{{ [1]|batch(10**9, 0)|list }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% for i in range(100000) %}" + "x" * 100 + "{% endfor %}",
        "{% set x %}{% for i in range(100000) %}" + "x" * 100 + "{% endfor %}{% endset %}",
        "{% set l = range(100000)|list %}{% for i in range(100000) %}"
        "{% if 99999 in l %}{% endif %}{% endfor %}",
        "{{ ''.__class__.__mro__ }}",
        "{{ lipsum(10**6) }}",
        "{{ [1, 2]|random }}",
        "{% include 'other.md' %}",
    ],
)
def test_hostile_templates_are_stopped_quickly(body: str) -> None:
    started = time.perf_counter()
    with pytest.raises(FragmentError) as info:
        _render(body, {})
    assert str(info.value).startswith(("demo: ", "fragments/demo.md"))
    assert time.perf_counter() - started < 10  # bounded, not a benchmark


def test_ordinary_templates_fit_the_budget_easily() -> None:
    body = (
        "{% for env, account in vars.aws.accounts | dictsort %}\n"
        "- {{ env | upper }}: `{{ account }}` ({{ loop.index }}/{{ loop.length }})\n"
        "{% endfor %}\n"
        "{{ vars.aws.region | replace('-', '_') }} {{ [1, 2, 3] | join(', ') }}"
        " {{ 'a' ~ 'b' }} {{ vars.aws.region.split('-') | first }}\n"
        "{{ vars.aws | tojson }}\n"
    )
    out = _render(body)
    assert "- PROD: `123456789012` (1/2)" in out.content
    assert "us_east_1 1, 2, 3 ab us" in out.content
