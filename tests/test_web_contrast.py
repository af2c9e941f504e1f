"""The stylesheet's colours meet WCAG 2.2 AA in light and in dark mode.

Colours live in custom properties only: the light palette in ``:root``, the dark one in the
``prefers-color-scheme: dark`` block (which overrides some of them). These tests read both
palettes from tracker/web/static/style.css and compute each pair's contrast ratio, so a
colour edit that makes some text or control hard to see fails here, before axe-core in the
browser tests (which sees only the pages and states the tests happen to open).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STYLESHEET = Path(__file__).resolve().parent.parent / "tracker" / "web" / "static" / "style.css"

TEXT = 4.5  # WCAG 1.4.3: normal text
NON_TEXT = 3.0  # WCAG 1.4.11: control boundaries, focus indicators, chart marks

# Pairs that meet only through inheritance or across rules (text on a parent's or a row's
# background), with the minimum each needs. Pairs set by one rule (`color` and `background`
# together) are found in the stylesheet by `pairs_in_rules` and checked as text.
PAIRS: list[tuple[str, str, float]] = [
    ("--fg", "--bg", TEXT),  # body text
    ("--muted", "--bg", TEXT),  # hints, URLs, table headers, tags, axis labels
    ("--accent", "--bg", TEXT),  # links
    ("--ins-fg", "--bg", TEXT),  # "+12" words added
    ("--del-fg", "--bg", TEXT),  # "−3" words removed, error text
    ("--warn", "--bg", TEXT),  # paused, pending promise
    ("--del-fg", "--del-bg", TEXT),  # p.error: .error's colour on p.error's background
    ("--fg", "--del-bg", TEXT),  # the suspect-extraction box
    ("--fg", "--alert-row-bg", TEXT),  # a failed check's row in the check log
    ("--muted", "--alert-row-bg", TEXT),  # its phone labels ("Outcome: ")
    ("--accent", "--alert-row-bg", TEXT),  # its story link
    ("--del-fg", "--alert-row-bg", TEXT),  # its error
    ("--control", "--bg", NON_TEXT),  # borders of inputs, selects, text areas
    ("--accent", "--bg", NON_TEXT),  # focus outline; a button's edge
    ("--chart-added", "--bg", NON_TEXT),
    ("--chart-removed", "--bg", NON_TEXT),
    ("--muted", "--bg", NON_TEXT),  # the chart's unchanged-version marks and ticks
    ("--ok", "--bg", NON_TEXT),  # an active story's badge edge
]

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}\b")
_VAR = re.compile(r"^var\((--[\w-]+)\)$")


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour written #rgb or #rrggbb."""
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    channels = [int(digits[index : index + 2], 16) / 255 for index in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _css() -> str:
    return re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S)


def _declarations(block: str) -> dict[str, str]:
    found = {}
    for declaration in block.split(";"):
        name, colon, value = declaration.partition(":")
        if colon:
            found[name.strip()] = value.strip()
    return found


def palettes() -> dict[str, dict[str, str]]:
    """{"light": {"--fg": "#1d1f23", ...}, "dark": {...}}: dark is light with its overrides."""
    css = _css()
    light = re.search(r"(?:^|\})\s*:root\s*\{([^}]*)\}", css)
    dark = re.search(r"@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}", css)
    assert light and dark, "style.css needs a :root palette and a dark-mode :root palette"

    def colours(block: str) -> dict[str, str]:
        return {
            name: value
            for name, value in _declarations(block).items()
            if name.startswith("--") and _HEX.fullmatch(value)
        }

    return {
        "light": colours(light.group(1)),
        "dark": colours(light.group(1)) | colours(dark.group(1)),
    }


def rules() -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every innermost rule, :root palettes left out."""
    return [
        (selector.strip(), _declarations(body))
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", _css())
        if selector.strip() != ":root"
    ]


def pairs_in_rules() -> list[tuple[str, str, str]]:
    """(selector, colour variable, background variable) of each rule that sets both."""
    found = []
    for selector, declarations in rules():
        colour = _VAR.match(declarations.get("color", ""))
        background = _VAR.match(
            declarations.get("background", declarations.get("background-color", ""))
        )
        if colour and background:
            found.append((selector, colour.group(1), background.group(1)))
    return found


def test_the_helper_computes_wcag_ratios():
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)
    assert contrast_ratio("#fff", "#fff") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    # The pair this work started from: white on the dark-mode accent.
    assert contrast_ratio("#ffffff", "#8ab4f8") == pytest.approx(2.11, abs=0.01)


def test_both_palettes_are_read_from_the_stylesheet():
    light, dark = palettes()["light"], palettes()["dark"]
    assert light["--bg"] == "#fff" and dark["--bg"] != light["--bg"]
    assert len(light) >= 10 and set(dark) == set(light)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("foreground", "background", "minimum"), PAIRS)
def test_each_listed_pair_meets_wcag_aa(scheme, foreground, background, minimum):
    palette = palettes()[scheme]
    ratio = contrast_ratio(palette[foreground], palette[background])
    assert ratio >= minimum, (
        f"{scheme}: {foreground} {palette[foreground]} on {background} {palette[background]} "
        f"is {ratio:.2f}:1, needs {minimum}:1"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_rule_that_sets_text_and_background_meets_wcag_aa(scheme):
    palette = palettes()[scheme]
    found = pairs_in_rules()
    assert ("button, .button", "--on-accent", "--accent") in found  # the parser sees rules
    failing = [
        f"{selector}: {colour} on {background} is "
        f"{contrast_ratio(palette[colour], palette[background]):.2f}:1"
        for selector, colour, background in found
        if contrast_ratio(palette[colour], palette[background]) < TEXT
    ]
    assert failing == [], f"{scheme}: " + "; ".join(failing)


def test_colours_are_written_only_in_the_palettes():
    """A colour outside the palettes would escape these checks (and dark mode): define it as
    a variable in both :root blocks and list its pairs in PAIRS."""
    stray = [
        f"{selector} {{{name}: {value}}}"
        for selector, declarations in rules()
        for name, value in declarations.items()
        if _HEX.search(value) or "rgb(" in value or "color-mix(" in value
    ]
    assert stray == []
