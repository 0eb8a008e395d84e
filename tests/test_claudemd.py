"""The pure CLAUDE.md merge: user text byte for byte, idempotent, exactly reversible."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skillpm.content.claudemd import Block, content_hash, merge, parse, remove
from skillpm.errors import FragmentError

NAMES = ["aws-environment", "lambda-conventions", "model-selection-policy", "zz"]

# Lines a user might write, including near-misses of skillpm's own markers.
_line_text = st.one_of(
    st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\ufeff# Title",
            "<!-- a comment -->",
            "<!-- skillpm:begin other 1.0.0 sha256:" + "0" * 64 + " -->",
            "<!-- skillpm:end other -->",
            "## Model selection policy",
            "\t- item\t ",
            "\r",
        ]
    ),
)
_eol = st.sampled_from(["\n", "\r\n"])


@st.composite
def user_text(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.tuples(_line_text, _eol), max_size=8))
    text = "".join(line + eol for line, eol in lines)
    if draw(st.booleans()):
        text += draw(_line_text)  # a last line without a line break
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


_content = st.lists(
    st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20),
    max_size=4,
).map(lambda lines: "".join(line + "\n" for line in lines if not line.startswith("<!--")))


order = st.integers(0, 3)


@st.composite
def block_sets(draw: st.DrawFn) -> list[Block]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    return [
        Block(
            n,
            draw(st.sampled_from(["1.0.0", "2.1.0-rc.1"])),
            draw(_content),
            draw(st.integers(0, 3)),
        )
        for n in names
    ]


def _files(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8", "surrogateescape")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.none(), user_text()), blocks=block_sets())
@example(text="", blocks=[Block("zz", "1.0.0", "x\n")])
@example(text="no newline at end", blocks=[Block("zz", "1.0.0", "x\n")])
@example(text="a\r", blocks=[Block("zz", "1.0.0", "x\n")])
@example(text="\n", blocks=[Block("zz", "1.0.0", "")])
def test_merge_then_remove_is_identity(text: str | None, blocks: list[Block]) -> None:
    merged = merge(text, blocks, owned=NAMES)
    assert remove(merged, NAMES) == text


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.none(), user_text()), blocks=block_sets())
def test_merge_is_idempotent(text: str | None, blocks: list[Block]) -> None:
    once = merge(text, blocks, owned=NAMES)
    assert merge(once, blocks, owned=NAMES) == once


@settings(max_examples=200, deadline=None)
@given(text=user_text(), first=block_sets(), second=block_sets())
def test_changing_the_block_set_keeps_user_text(
    text: str, first: list[Block], second: list[Block]
) -> None:
    """Any sequence of merges ends, after removal, with the user's text unchanged."""
    step = merge(text, first, owned=NAMES)
    step = merge(step, second, owned=NAMES)
    assert remove(step, NAMES) == text
    found = parse(step or "").blocks()
    assert {n: b.content_lf for n, b in found.items() if n in NAMES} == {
        b.name: b.content for b in second
    }


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200), blocks=block_sets())
def test_any_bytes_survive(raw: bytes, blocks: list[Block]) -> None:
    """Not even UTF-8: the bytes outside the markers come back exactly."""
    text = raw.decode("utf-8", "surrogateescape")
    if any(n in text for n in NAMES):
        return
    merged = merge(text, blocks, owned=NAMES)
    assert _files(remove(merged, NAMES)) == raw


def test_blocks_follow_user_text_in_order_and_keep_crlf() -> None:
    text = "# Project\r\n\r\nOur rules.\r\n"
    blocks = [Block("zz", "1.0.0", "## Z\n", 1), Block("aws-environment", "1.0.0", "## A\n", 9)]
    merged = merge(text, blocks)
    assert merged is not None
    assert merged.startswith(text + "\r\n<!-- skillpm:begin zz 1.0.0 sha256:")
    assert merged.index("begin zz") < merged.index("begin aws-environment")
    assert "\n" not in merged.replace("\r\n", "")
    assert "begin zz 1.0.0 " + content_hash("## Z\n") + " -->" in merged


def test_new_block_goes_beside_existing_ones_even_when_moved() -> None:
    a = Block("aws-environment", "1.0.0", "## A\n", 10)
    m = Block("model-selection-policy", "1.0.0", "## M\n", 50)
    z = Block("zz", "1.0.0", "## Z\n", 90)
    moved = a.text() + z.text() + "\n# Mine\n\nafter the blocks\n"
    merged = merge(moved, [a, m, z])
    assert merged == a.text() + m.text() + z.text() + "\n# Mine\n\nafter the blocks\n"
    assert remove(merged, NAMES) == "\n# Mine\n\nafter the blocks\n"


def test_blocks_of_other_names_are_user_text() -> None:
    foreign = Block("other", "1.0.0", "theirs\n").text()
    text = "intro\n" + foreign
    merged = merge(text, [Block("zz", "1.0.0", "ours\n")])
    assert merged is not None and merged.startswith(text + "\n<!-- skillpm:begin zz")
    assert remove(merged, ["zz"]) == text


def test_kept_block_is_left_byte_for_byte() -> None:
    block = Block("zz", "1.0.0", "ours\n")
    edited = "intro\n\n" + block.text().replace("ours", "mine, by hand")
    assert merge(edited, [Block("zz", "2.0.0", "new\n")], keep=["zz"]) == edited
    assert parse(edited).blocks()["zz"].edited


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "x\n<!-- skillpm:begin zz 1.0.0 sha256:" + "a" * 64 + " -->\nbody\n",
            "CLAUDE.md:2: a begin marker without its end marker for zz",
        ),
        ("x\nbody\n<!-- skillpm:end zz -->\n", "CLAUDE.md:3: an end marker without a begin for zz"),
        (
            "<!-- skillpm:begin zz 1.0 sha256:abc -->\nbody\n<!-- skillpm:end zz -->\n",
            "CLAUDE.md:1: a malformed begin marker for zz",
        ),
        (
            Block("zz", "1", "a\n").text() + Block("zz", "1", "b\n").text(),
            "CLAUDE.md:4: a second block for zz (the first is at line 1)",
        ),
    ],
)
def test_damaged_markers_are_refused(text: str, message: str) -> None:
    with pytest.raises(FragmentError) as info:
        merge(text, [Block("zz", "1.0.0", "x\n")])
    assert str(info.value).startswith(message)


def test_damaged_markers_of_other_names_are_ignored() -> None:
    text = "x\n<!-- skillpm:end someone-else -->\n"
    assert remove(merge(text, [Block("zz", "1.0.0", "x\n")]), ["zz"]) == text
