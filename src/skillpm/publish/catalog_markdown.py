"""A SKILL.md body as HTML for the catalog, treating registry content as hostile.

markdown-it-py parses CommonMark (+ GFM tables and strikethrough) with raw HTML
off, so ``<script>`` or ``<img onerror=...>`` in a SKILL.md is shown as text, and
its link check already drops ``javascript:``, ``vbscript:``, ``file:`` and most
``data:`` targets. The token pass below narrows that to an allowlist and keeps
every page inside the catalog's Content-Security-Policy (a violation would be an
error in the reader's console):

- a link keeps only an ``http(s):``, ``mailto:`` or ``#fragment`` target; any other
  (a path into the package, which the site does not serve) becomes its text;
- an image is never loaded (a remote one tracks readers, a relative one is not
  served, and the CSP blocks both): an ``https:`` image becomes a link to it,
  any other its alt text;
- table alignment becomes a class, because the CSP forbids inline ``style``;
- headings move down two levels, so a SKILL.md's ``#`` sits under the skill's ``h2``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

HEADING_SHIFT = 2
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_REL = "nofollow noopener noreferrer"
_ALIGN = {"text-align:left": "left", "text-align:center": "center", "text-align:right": "right"}


@cache
def _parser() -> MarkdownIt:
    # Imported here: only a catalog build needs it, never install or --help.
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return md.enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """``text`` (a SKILL.md body, frontmatter removed) as an HTML fragment safe to embed."""
    md = _parser()
    tokens = md.parse(text)
    for token in tokens:
        _block(token)
    html: str = md.renderer.render(tokens, md.options, {})
    return html


def _scheme(url: str) -> str | None:
    """The URL's scheme, lower-cased; None for a URL that does not parse."""
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return None


def _block(token: Token) -> None:
    if token.type in ("heading_open", "heading_close"):
        token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"
    elif token.type in ("th_open", "td_open"):
        align = _ALIGN.get(str(token.attrs.pop("style", "")))
        if align:
            token.attrs["class"] = f"align-{align}"
    if token.children:
        token.children = _inline(token.children)


def _inline(children: list[Token]) -> list[Token]:
    from markdown_it.token import Token

    out: list[Token] = []
    dropped = 0  # link_open tokens left out, whose link_close must go too
    for token in children:
        if token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            if href.startswith("#") or _scheme(href) in _LINK_SCHEMES:
                token.attrs["rel"] = _REL
                out.append(token)
            else:
                dropped += 1
        elif token.type == "link_close" and dropped:
            dropped -= 1
        elif token.type == "image":
            label = Token("text", "", 0, content=f"[image: {token.content or 'no description'}]")
            src = str(token.attrs.get("src", ""))
            if _scheme(src) == "https":
                opened = Token("link_open", "a", 1, attrs={"href": src, "rel": _REL})
                out += [opened, label, Token("link_close", "a", -1)]
            else:
                out.append(label)
        else:
            out.append(token)
    return out
