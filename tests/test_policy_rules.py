"""The pure half of policy: parsing with lines, URL keys for allow-lists, tighten-only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillpm.errors import PolicyError
from skillpm.policy.evaluate import (
    MANAGED,
    PROJECT,
    Effective,
    Layer,
    Subject,
    check_packages,
    check_registries,
    registry_key,
)
from skillpm.policy.load import parse_text
from skillpm.policy.rules import known_keys


def layer(kind: str, text: str, source: str = "p.yaml") -> Layer:
    return Layer(kind, parse_text(text, source))


def allows(globs: str, url: str, base: str = "/work/project") -> bool:
    policy = Effective((layer(MANAGED, f"registries:\n  allow: {globs}\n"),))
    return not check_registries(policy, [("r", registry_key(url, base))])


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("git+https://user:token@GitHub.com/acme/skills.git#v2",
         "git+https://github.com/acme/skills.git#v2"),
        ("https://skills.acme.example@evil.example/x", "https://evil.example/x"),
        ("git+https://github.com/acme/../evil/skills.git", None),
        ("git+https://github.com/acme/%2E%2e/evil/skills.git", None),
        ("git@GitHub.com:acme/skills.git", "git@github.com:acme/skills.git"),
        ("git@github.com:acme/../evil.git", None),
        ("../registry", "file:///work/registry"),
        ("git+file:///srv/x/../registry.git", "git+file:///srv/registry.git"),
        ("builtin", "builtin"),
    ],
)  # fmt: skip
def test_registry_keys_cannot_be_dressed_up(url: str, key: str | None) -> None:
    assert registry_key(url, "/work/project") == key


def test_allow_globs() -> None:
    acme = "['git+https://github.com/acme/*']"
    assert allows(acme, "git+https://github.com/acme/skills.git#main")
    assert not allows(acme, "git+https://github.com/acme-evil/skills.git")
    assert not allows(acme, "git+https://github.com/acme/../evil/x.git")
    assert not allows(acme, "git+https://github.com.evil.example/acme/x.git")
    # A glob without '#' speaks of the repository, one with '#' of its refs too.
    exact = "['git+https://github.com/acme/skills.git']"
    assert allows(exact, "git+https://github.com/acme/skills.git#v2")
    tagged = "['git+https://github.com/acme/skills.git#v*']"
    assert allows(tagged, "git+https://github.com/acme/skills.git#v2")
    assert not allows(tagged, "git+https://github.com/acme/skills.git#main")
    assert allows("['/srv/registries/*']", "../../srv/registries/team", base="/work/project")
    assert allows("[builtin]", "builtin") and not allows("['https://*']", "builtin")
    # Globs are read like URLs: the ssh user as written, any host case.
    assert allows("['git+ssh://git@GitHub.com/acme/*']", "git+ssh://git@github.com/acme/x.git")
    assert allows("['git@GitHub.com:acme/*']", "git@github.com:acme/x.git")
    assert not allows("['git@github.com:acme/*']", "git@github.com:acme-evil/x.git")


def test_layers_only_tighten() -> None:
    managed = layer(MANAGED, "packages:\n  allow: [app, base]\n  deny: ['base@<2']\n", "m.yaml")
    widening = layer(PROJECT, "packages:\n  allow: ['*']\n", "team.yaml")
    policy = Effective((managed, widening))
    subjects = [
        Subject("app", "1.0.0", "builtin", "builtin", ("app",)),
        Subject("base", "1.5.0", "builtin", "builtin", ("app", "base")),
        Subject("other", "1.0.0", "builtin", "builtin", ("other",)),
    ]
    found = {(v.package, v.rule, v.source) for v in check_packages(policy, subjects)}
    assert found == {("base", "packages.deny", "m.yaml"), ("other", "packages.allow", "m.yaml")}
    denied = next(v for v in check_packages(policy, subjects) if v.package == "base")
    assert denied.message == (
        "base 1.5.0 (brought in by app) is refused by packages.deny 'base@<2' (m.yaml:3)"
    )


def test_executables_take_the_strictest_mode() -> None:
    warn = layer(MANAGED, "content:\n  executables: warn\n")
    allow = layer(PROJECT, "content:\n  executables: allow\n")
    deny = layer(PROJECT, "content:\n  executables: deny\n")
    assert Effective((warn, allow)).executables[0] == "warn"
    assert Effective((warn, deny)).executables[0] == "deny"


def test_every_key_is_a_field_and_items_keep_their_lines() -> None:
    assert {s: sorted(k) for s, k in known_keys().items()} == {
        "content": ["block-lint", "executables", "plugin-parts"],
        "packages": ["allow", "deny"],
        "registries": ["allow"],
        "signatures": ["allowed-signers", "required"],
    }
    policy = parse_text("packages:\n  deny:\n    - a\n    - 'b@^1'\n", "p.yaml")
    assert [(p.item.text, p.item.line, p.range) for p in policy.packages_deny or ()] == [
        ("a", 3, None),
        ("b@^1", 4, "^1"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "- a list\n",
        "packages: [deny]\n",
        "packages:\n  deny: [{a: b}]\n",
        "packages:\n  deny: [a@]\n",
    ],
)
def test_shapes_that_are_not_a_policy(text: str) -> None:
    with pytest.raises(PolicyError, match=r"^p\.yaml"):
        parse_text(text, "p.yaml")


_WORDS = st.sampled_from(
    ["registries", "packages", "content", "allow", "deny", "block-lint", "executables",
     "plugin-parts", "builtin", "SAFETY", "skills", "warn", "a-*", "b@^1", "x@", "[", "*"]
)  # fmt: skip
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _WORDS | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_WORDS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_VALUES)
def test_any_yaml_is_a_policy_or_one_line_naming_the_file(data: object) -> None:
    import yaml

    text = yaml.safe_dump(data)
    try:
        parse_text(text, "p.yaml")
    except PolicyError as exc:
        assert str(exc).startswith("p.yaml") and "\n" not in str(exc)
