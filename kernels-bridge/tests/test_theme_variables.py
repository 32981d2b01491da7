"""Every view of the suite takes its colours from JupyterLab's theme, so that the dark theme
is as readable as the light one: no literal colour in the extensions' style sheets nor in the
inline styles of their components, and every `var(--jp-...)` they use is one that both of
JupyterLab's own themes (light and dark, as installed with jupyterlab) define.

Canvas drawing (coastlines, the map's outlines) is left out: it draws on the data's own
colours, not on the theme's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from jupyterlab.commands import get_app_dir

EXTENSIONS = REPO_ROOT / "extensions"
STYLE_SHEETS = sorted(EXTENSIONS.glob("*/style/*.css"))
COMPONENTS = sorted(p for p in EXTENSIONS.glob("*/src/**/*.tsx"))

COLOUR_PROPERTY = re.compile(
    r"(?:^|[;{\s])((?:[\w-]*-)?(?:color|background|border|outline|fill|stroke|shadow)"
    r"[\w-]*)\s*:\s*([^;}]+)",
    re.IGNORECASE,
)
LITERAL_COLOUR = re.compile(
    r"#[0-9a-f]{3,8}\b|\b(?:rgba?|hsla?)\(|\b(?:white|black|gr[ae]y|silver|red|green|blue|"
    r"yellow|orange|navy|teal)\b",
    re.IGNORECASE,
)
CUSTOM_PROPERTY = re.compile(r"(?:^|[;{\s])(--[\w-]+)\s*:\s*([^;}]+)")
INLINE_STYLE = re.compile(r"style=\{\{(.*?)\}\}", re.DOTALL)
"""A component's inline style (`style={{ ... }}`): canvas code elsewhere is not a style."""
INLINE_COLOUR = re.compile(
    r"\b(color|background(?:Color)?|border(?:Color)?|fill|stroke)\s*:\s*['\"`]([^'\"`]*)['\"`]"
)
THEME_VARIABLE = re.compile(r"var\(\s*(--jp-[\w-]+)")


def _theme_variables(name: str) -> set[str]:
    sheet = Path(get_app_dir()) / "themes" / "@jupyterlab" / name / "index.css"
    return set(re.findall(r"(--jp-[\w-]+)\s*:", sheet.read_text("utf-8")))


def _without_comments(css: str) -> str:
    return re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)


def test_the_suite_has_style_sheets_and_components_to_check():
    assert {p.parent.parent.name for p in STYLE_SHEETS} >= {
        "catalog",
        "dask",
        "globe",
        "jobs",
        "preview",
        "provenance",
    }
    assert COMPONENTS
    assert any(INLINE_STYLE.search(p.read_text("utf-8")) for p in COMPONENTS)


def _literal_colours(css: str) -> list[str]:
    """The declarations of `css` that name a colour of their own: colour properties, and
    custom properties (`--espri-vre-...: ...`) whatever their name, since a rule may take its
    colour from one of them."""
    css = _without_comments(css)
    return [
        f"{prop}: {value.strip()}"
        for prop, value in [*COLOUR_PROPERTY.findall(css), *CUSTOM_PROPERTY.findall(css)]
        if LITERAL_COLOUR.search(value)
    ]


def test_the_lint_finds_literal_colours_and_lets_theme_variables_pass():
    css = """
    .a { color: #fff; border: 1px solid var(--jp-border-color1); }
    /* a comment may say white */
    .b { --espri-vre-tone: rgb(1, 2, 3); background: var(--espri-vre-tone); }
    .c { --espri-vre-dot: var(--jp-success-color1); outline-color: navy; }
    """
    assert sorted(_literal_colours(css)) == [
        "--espri-vre-tone: rgb(1, 2, 3)",
        "color: #fff",
        "outline-color: navy",
    ]


@pytest.mark.parametrize("sheet", STYLE_SHEETS, ids=lambda p: str(p.relative_to(EXTENSIONS)))
def test_style_sheets_name_no_colour_of_their_own(sheet: Path):
    assert _literal_colours(sheet.read_text("utf-8")) == []


def test_components_set_no_literal_colour_inline():
    literal = [
        f"{path.relative_to(EXTENSIONS)}: {prop}: {value}"
        for path in COMPONENTS
        for style in INLINE_STYLE.findall(path.read_text("utf-8"))
        for prop, value in INLINE_COLOUR.findall(style)
        if LITERAL_COLOUR.search(value)
    ]
    assert literal == []


def test_every_theme_variable_used_is_defined_by_the_light_and_the_dark_theme():
    light = _theme_variables("theme-light-extension")
    dark = _theme_variables("theme-dark-extension")
    assert len(light) > 200 and len(dark) > 200  # the real themes, not an empty file
    sources = [*STYLE_SHEETS, *EXTENSIONS.glob("*/src/**/*.ts"), *COMPONENTS]
    used = {
        name: path.relative_to(EXTENSIONS)
        for path in sources
        for name in THEME_VARIABLE.findall(path.read_text("utf-8"))
    }
    assert used, "no theme variable found: the pattern or the paths are wrong"
    missing = {name: str(where) for name, where in used.items() if name not in light & dark}
    assert missing == {}
