"""README.md renders as meant: headings, tables, links, and the demo users it names."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

from erp.demo import demo_users

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def render(text: str):
    return MarkdownIt("commonmark").enable("table").parse(text)


@pytest.fixture(scope="module")
def source() -> str:
    return README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tokens(source):
    return render(source)


def _inline_text(tokens, index: int) -> str:
    return tokens[index + 1].content.strip()  # heading_open, inline, heading_close


def _code_lines(tokens) -> set[int]:
    """0-based source lines inside fenced or indented code blocks."""
    lines = set()
    for token in tokens:
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(*token.map))
    return lines


def headings(tokens, tag: str) -> list[str]:
    return [_inline_text(tokens, i) for i, token in enumerate(tokens)
            if token.type == "heading_open" and token.tag == tag]


def test_every_section_heading_renders_as_one(source, tokens):
    """A code fence left open (or closed with text after it) swallows what follows."""
    wanted = [line[3:].strip() for line in source.splitlines() if line.startswith("## ")]
    assert wanted, "no ## headings"
    rendered = headings(tokens, "h2")
    assert rendered == wanted, f"not rendered as headings: {sorted(set(wanted) - set(rendered))}"


def test_the_quick_start_comes_first(source, tokens):
    first_fence = next(token for token in tokens if token.type == "fence")
    assert "make run" in first_fence.content and "make test" in first_fence.content
    assert source.index("make run") < source.index("\n## ")


def _pipe_blocks(source: str, code: set[int]) -> list[tuple[int, int]]:
    """Runs of consecutive lines starting with '|' outside code: [start, end) 0-based."""
    blocks, start = [], None
    lines = source.splitlines()
    for number, line in enumerate([*lines, ""]):
        table_like = line.lstrip().startswith("|") and number not in code
        if table_like and start is None:
            start = number
        elif not table_like and start is not None:
            blocks.append((start, number))
            start = None
    return blocks


def test_every_table_renders_whole_with_a_header(source, tokens):
    tables = [token for token in tokens if token.type == "table_open"]
    assert tables, "no table rendered"
    for index, token in enumerate(tokens):
        if token.type == "table_open":
            assert tokens[index + 1].type == "thead_open", f"table at line {token.map[0] + 1}"
    rendered = {tuple(token.map) for token in tables}
    for start, end in _pipe_blocks(source, _code_lines(tokens)):
        assert (start, end) in rendered, (
            f"lines {start + 1}-{end} look like a table but do not render as one "
            "(a blank line inside it, or a missing header row?)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _links(tokens) -> list[str]:
    found = []
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                found.append(child.attrs["href"])
            elif child.type == "image":
                found.append(child.attrs["src"])
    return found


def test_links_stay_inside_the_repository(source, tokens):
    links = _links(tokens)
    assert links
    anchors = {_slug(title) for tag in ("h1", "h2", "h3", "h4") for title in headings(tokens, tag)}
    # Not even as text: the README stands alone (e.g. no `../shared/SPEC.md`).
    assert "../" not in source, "the README names a path outside the repository"
    for href in links:
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "mailto"):
            continue
        assert not parts.scheme and not parts.netloc, href
        if not parts.path:
            assert parts.fragment in anchors, f"no heading for the anchor {href}"
            continue
        assert not parts.path.startswith(("/", "../")), f"{href} points outside the repository"
        target = (ROOT / unquote(parts.path)).resolve()
        assert target.is_relative_to(ROOT), f"{href} points outside the repository"
        assert target.exists(), f"{href}: no such file in the repository"


@pytest.fixture
def demo_usernames(app) -> set[str]:
    """The host's demo user and every enabled module's (their DemoLoader's users)."""
    with app.app_context():
        return {user.username for user in demo_users()}


# "--user ana", "log in as 'admin'", "log in as **gerente**"
USER_MENTIONS = re.compile(r"(?:--user[ =]|log in as )[\s'\"`*]*([\w.@-]+)", re.IGNORECASE)


def test_example_commands_use_demo_users_that_exist(source, demo_usernames):
    mentioned = USER_MENTIONS.findall(source)
    assert mentioned, "the README names no user in its examples"
    unknown = sorted(set(mentioned) - demo_usernames)
    assert not unknown, f"not demo users (erp.demo.demo_users()): {unknown}"


def test_every_demo_user_is_in_the_logins_table(source, demo_usernames):
    assert {"admin", "gerente", "ana", "bruno", "fernanda", "sergio"} <= demo_usernames
    for username in demo_usernames:
        assert f"| `{username}`" in source
