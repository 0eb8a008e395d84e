"""The managed block in .claudeignore."""

from __future__ import annotations

import pytest

from skillpm.formats import claudeignore as ci


def test_block_goes_first_and_comes_back_out() -> None:
    user = "# mine\nsecrets/\n!dist/keep.txt"  # no final newline
    parsed = ci.parse(user)
    lines = ci.wanted([["node_modules/", "dist/"], ["dist/", "*.log"]], parsed.user_lines())
    assert lines == ("node_modules/", "dist/", "*.log")
    text = ci.render(parsed, lines)
    assert text == f"{ci.BEGIN}\nnode_modules/\ndist/\n*.log\n{ci.END}\n{user}"
    again = ci.parse(text)
    assert again.block == lines
    assert ci.render(again, ()) == user


def test_users_lines_are_not_repeated() -> None:
    parsed = ci.parse("node_modules/\n")
    assert ci.wanted([["node_modules/", "cdk.out/  "]], parsed.user_lines()) == ("cdk.out/",)


def test_the_block_is_updated_where_it_is() -> None:
    text = f"a\n{ci.BEGIN}\nx\n{ci.END}\nb\n"
    assert ci.render(ci.parse(text), ["y"]) == f"a\n{ci.BEGIN}\ny\n{ci.END}\nb\n"
    assert ci.render(ci.parse(text), []) == "a\nb\n"


def test_damaged_markers() -> None:
    with pytest.raises(ci.BlockError, match="markers are damaged"):
        ci.parse(f"{ci.BEGIN}\nx\n")
    with pytest.raises(ci.BlockError):
        ci.parse(f"{ci.END}\n{ci.BEGIN}\n")


@pytest.mark.parametrize("line", ["", "  ", "a\nb", "# skillpm:end", "x" * 1001])
def test_bad_lines(line: str) -> None:
    assert ci.check_line(line) is not None
