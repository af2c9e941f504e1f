"""Whether an extraction can be trusted: a verdict on the article read from a page.

A page the tracker cannot read does not fail loudly: it yields a few words of navigation, or a
JavaScript app's empty shell, and every later check then says "unchanged" while the story moves
on. `assess` looks at the article and the page it came from and says "suspect" when one of these
signs shows, each a `Reason` with a stable code:

- ``no-text``: nothing was extracted at all;
- ``few-words``: the article is a handful of words on a page that shows many more;
- ``mostly-links``: the article is mostly link text (a nav, a list of other stories);
- ``app-shell``: the page shows almost no text while its scripts are heavy (data or an app
  mounted into an empty element), and the article was not read from the page's data;
- ``javascript-required``: the page says it needs JavaScript (in a ``noscript`` or in view) and
  the article is thin;
- ``collapse``: the article shrank to under a third of the previous version's words, as after
  a site redesign that moved the body out of where the tracker reads it;
- ``same-as-other-stories``: another story of the same site stores the very same short text (a
  teaser, a cookie wall, the site's navigation), which an article is not. The pipeline adds this
  one (it needs the database) with `duplicate_reason`.

The thresholds are generic and err towards "ok": over the 181 real news pages of the extraction
benchmark's corpus, none is suspect. A verdict also says what the user can do about it
(`Health.suggestion`): fetch with a browser, or point the tracker at the body with a selector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from tracker.core.article import Article, Block
from tracker.core.extract import (
    html_parser,
    page_text,
    shown_text_nodes,
    visible_text,
    xml_safe,
)
from tracker.core.words import counted

__all__ = [
    "CODES",
    "OK",
    "SUSPECT",
    "Health",
    "Reason",
    "assess",
    "collapse_reason",
    "duplicate_reason",
    "suggestion_for",
    "with_reasons",
    "word_count",
]

OK = "ok"
SUSPECT = "suspect"

# The reason codes, stable: they are stored with each version and matched by alert filters.
CODES = (
    "no-text",
    "few-words",
    "mostly-links",
    "app-shell",
    "javascript-required",
    "collapse",
    "same-as-other-stories",
)

# An article under this many words is a handful ...
FEW_WORDS = 25
# ... when the page shows at least this many words, and this many times the article's.
FEW_WORDS_PAGE_WORDS = 100
FEW_WORDS_PAGE_RATIO = 4
# Link text over this share of the article's words: a nav or a list of stories. (Real articles
# reach about 0.6: a deals roundup whose items are links.)
MOSTLY_LINKS_SHARE = 0.75
# An app shell shows fewer words than this, gives an article of fewer than THIN_ARTICLE_WORDS,
# and has an empty mount point, or inline scripts (code, state) this many times the size of its
# visible text and at least SHELL_SCRIPT_CHARS.
SHELL_PAGE_WORDS = 150
SHELL_SCRIPT_RATIO = 10
SHELL_SCRIPT_CHARS = 10_000
THIN_ARTICLE_WORDS = 100
# A mount point with fewer words than this is empty (the app has not rendered into it).
EMPTY_MOUNT_WORDS = 20
# The article fell below this share of the previous version's words ...
COLLAPSE_SHARE = 0.3
# ... and the previous version had at least this many (10 -> 2 words is noise, not a collapse).
COLLAPSE_MIN_PREVIOUS = 50
# Only texts shorter than this are compared with other stories of the site: a teaser or a wall
# is short, while two long identical articles are the same story at two addresses (AMP, print).
DUPLICATE_MAX_WORDS = 150

_BROWSER_CODES = frozenset(["app-shell", "javascript-required"])
_HTML_SOURCES = frozenset(["html", "selector"])  # otherwise the body came from the page's data

_WORD = re.compile(r"\w+")
_JAVASCRIPT_REQUIRED = re.compile(
    r"(?:enable|turn\s+on|activate|switch\s+on|allow)\s+(?:your\s+|the\s+)?javascript"
    r"|javascript\s+(?:is\s+|has\s+been\s+)?(?:required|disabled|turned\s+off|not\s+enabled"
    r"|must\s+be\s+(?:enabled|turned\s+on)|needs\s+to\s+be\s+enabled)"
    r"|(?:requires?|needs?)\s+javascript|without\s+javascript"
    r"|javascript\s+(?:aktivieren|einschalten)|(?:activer|activez)\s+(?:le\s+)?javascript"
    r"|(?:activar|habilitar|habilite|active)\s+(?:el\s+|o\s+)?javascript"
    r"|(?:attiva|abilita)\s+javascript",
    re.IGNORECASE,
)
# A message about one widget ("enable JavaScript to view the comments") is not about the article.
_WIDGET = re.compile(
    r"comment|disqus|video|player|\bmaps?\b|chart|graphic|interactive|\bform\b|poll|survey"
    r"|captcha|gallery|slideshow|audio|podcast|embed|\bads?\b|newsletter|\blog\s*in\b|sign\s*in",
    re.IGNORECASE,
)
# Where client-side frameworks mount their app.
_MOUNT_XPATH = (
    "//*[@id='root' or @id='app' or @id='__next' or @id='__nuxt' or @id='___gatsby'"
    " or @id='svelte' or @data-reactroot or @ng-version] | //app-root"
)
# The page's own furniture: menus, the site header and footer.
_NAVIGATION_XPATH = (
    "//nav | //header | //footer | //menu | //*[@role='navigation' or @role='banner'"
    " or @role='contentinfo' or @role='menu' or @role='menubar']"
)
_SCRIPT_KINDS = re.compile(r"^(?:|text/javascript|application/javascript|module|.*json.*)$")


@dataclass(frozen=True)
class Reason:
    """One sign that the extraction is wrong: a stable code and a sentence for people."""

    code: str  # one of CODES
    message: str


@dataclass(frozen=True)
class Health:
    """The verdict on one extraction."""

    verdict: str  # OK or SUSPECT
    reasons: tuple[Reason, ...] = ()
    suggestion: str | None = None  # what the user can do; None when the verdict is OK

    @property
    def suspect(self) -> bool:
        return self.verdict == SUSPECT

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)

    @property
    def wants_browser(self) -> bool:
        """Whether a browser would likely read the page (it builds its article with JavaScript)."""
        return any(code in _BROWSER_CODES for code in self.codes)

    def reasons_json(self) -> list[dict[str, str]]:
        """The reasons as stored with a version: [{"code": ..., "message": ...}]."""
        return [{"code": reason.code, "message": reason.message} for reason in self.reasons]


def word_count(text: str | None) -> int:
    """Words as `assess` counts them (pass the previous version's as `previous_words`)."""
    return len(_WORD.findall(text or ""))


def assess(
    article: Article,
    html: str | HtmlElement,
    *,
    previous_words: int | None = None,
    rendered: bool = False,
    shown: HtmlElement | None = None,
) -> Health:
    """The verdict on `article`, extracted from `html`. Pure; never raises on hostile input.

    `rendered`: `html` is a page a browser rendered. Its scripts have run, so what they left
    behind (a ``noscript`` message, a mount point, the code) is no sign that the article
    needs JavaScript; only the article itself is judged.

    `shown`: the page already parsed with its hidden elements dropped (as
    tracker.core.region.prepare makes it), read instead of a copy made here."""
    words = word_count(article.text)
    page = _Page.read(html, shown=shown)
    reasons: list[Reason] = []
    from_html = article.source in _HTML_SOURCES and not rendered
    if words == 0:
        reasons.append(Reason("no-text", "No article text was found on the page."))
    elif (
        words < FEW_WORDS
        and page.words >= FEW_WORDS_PAGE_WORDS
        and page.words >= FEW_WORDS_PAGE_RATIO * words
    ):
        reasons.append(
            Reason(
                "few-words",
                f"Only {counted(words, 'word')} were extracted from a page that shows about "
                f"{page.words}.",
            )
        )
    link_share = _link_share(article, page)
    if words and link_share > MOSTLY_LINKS_SHARE:
        reasons.append(
            Reason(
                "mostly-links",
                f"{round(100 * link_share)}% of the extracted text is link text or the page's "
                "navigation (menus, header, footer), not an article.",
            )
        )
    if from_html and words < THIN_ARTICLE_WORDS and page.words < SHELL_PAGE_WORDS:
        shell = page.shell_evidence()
        if shell:
            reasons.append(
                Reason(
                    "app-shell",
                    f"The page is an app shell: it shows {counted(page.words, 'word')} while "
                    f"{shell}; the article is built with JavaScript.",
                )
            )
    if from_html and words < THIN_ARTICLE_WORDS and page.javascript_message:
        reasons.append(
            Reason(
                "javascript-required",
                f'The page says it needs JavaScript ("{page.javascript_message}").',
            )
        )
    collapsed = collapse_reason(words, previous_words)
    if collapsed is not None:
        reasons.append(collapsed)
    if not reasons:
        return Health(OK)
    return Health(SUSPECT, tuple(reasons), _suggestion(article, reasons))


def collapse_reason(words: int, previous_words: int | None) -> Reason | None:
    """The ``collapse`` reason when an article of `words` words follows one of `previous_words`
    (None: there was no previous version) and is under `COLLAPSE_SHARE` of it."""
    if (
        previous_words is None
        or previous_words < COLLAPSE_MIN_PREVIOUS
        or words >= COLLAPSE_SHARE * previous_words
    ):
        return None
    return Reason(
        "collapse",
        f"The article fell from {counted(previous_words, 'word')} to {words} since the "
        "previous version: the page's layout may have changed.",
    )


def duplicate_reason(article: Article, other_url: str) -> Reason | None:
    """The ``same-as-other-stories`` reason for `article`, whose text another story of the same
    site (at `other_url`) stores too; None for a text long enough to be a real article."""
    words = word_count(article.text)
    if words == 0 or words >= DUPLICATE_MAX_WORDS:
        return None
    return Reason(
        "same-as-other-stories",
        f"Another story of this site ({other_url}) has the very same text: it is probably the "
        "site's navigation, a teaser or a notice, not this article.",
    )


def with_reasons(health: Health, article: Article, reasons: list[Reason | None]) -> Health:
    """`health` with `reasons` (the Nones skipped, repeated codes once) added."""
    added = [r for r in reasons if r is not None and r.code not in health.codes]
    if not added:
        return health
    combined = [*health.reasons, *added]
    return Health(SUSPECT, tuple(combined), _suggestion(article, combined))


def _suggestion(article: Article, reasons: list[Reason]) -> str:
    return suggestion_for([reason.code for reason in reasons], article.source)


def suggestion_for(codes: list[str] | tuple[str, ...], source: str | None) -> str:
    """What the user can do about an extraction suspect for `codes`, whose text came from
    `source` (`Article.source`; stored with each version as its text_source)."""
    browser = "fetch it with a browser: `tracker set URL --render browser`"
    selector = "point the tracker at the article's body: `tracker set URL --selector 'CSS'`"
    if set(codes) & _BROWSER_CODES:
        return f"The page builds its article with JavaScript: {browser}."
    if source == "selector":
        return (
            "The story's CSS selector may no longer match the article (a redesign?): check it, "
            f"or set another one ({selector[selector.index('`') :]}), or clear it with "
            "`tracker set URL --selector ''`."
        )
    return f"To read the right text, {selector}; if the page needs JavaScript, {browser}."


def _link_share(article: Article, page: _Page) -> float:
    """The share of the article's words that are link text or the page's navigation.

    Link text is what extraction recorded (`Block.links`); a block that is text of the page's
    nav, header or footer counts whole, as extraction does not always keep a menu's links.
    """
    blocks = article.blocks or tuple(Block(p) for p in article.text.split("\n\n"))
    total = linked = 0
    for block in blocks:
        words = word_count(block.text)
        total += words
        key = _key(block.text)
        if key and f" {key} " in page.navigation_key:
            linked += words
        else:
            linked += min(words, sum(word_count(link) for link in block.links))
    return linked / total if total else 0.0


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


@dataclass(frozen=True)
class _Page:
    """What `assess` reads from the page itself."""

    words: int  # visible words
    visible_chars: int
    inline_script_chars: int
    empty_mounts: tuple[str, ...]  # "div#root", ...
    javascript_message: str | None
    navigation_key: str = " "  # " home world politics about us ": words of nav, header, footer

    @classmethod
    def read(cls, html: str | HtmlElement, *, shown: HtmlElement | None = None) -> _Page:
        empty = cls(0, 0, 0, (), None)
        try:
            # Only read here (visible_text works on a copy), so a tree passed in is not changed.
            tree = _parse(html) if isinstance(html, str | bytes) else html
            if tree is None:
                return empty
            # Read before visible_text drops them: noscript messages, scripts, mount points.
            inline = sum(
                len(script.text or "")
                for script in tree.iter("script")
                if not script.get("src")
                and _SCRIPT_KINDS.match((script.get("type") or "").strip().lower())
            )
            noscript = " ".join(" ".join(el.itertext()) for el in tree.iter("noscript"))
            text = visible_text(tree) if shown is None else page_text(shown)
            mounts = tuple(
                f"{el.tag}#{el.get('id')}" if el.get("id") else str(el.tag)
                for el in tree.xpath(_MOUNT_XPATH)
                if isinstance(el.tag, str) and _visible_words(el) < EMPTY_MOUNT_WORDS
            )
            navigation = (
                _key(" ".join(shown_text_nodes(el))) for el in tree.xpath(_NAVIGATION_XPATH)
            )
            return cls(
                navigation_key=" " + " ".join(key for key in navigation if key) + " ",
                words=word_count(text),
                visible_chars=len(text),
                inline_script_chars=inline,
                empty_mounts=mounts,
                javascript_message=_javascript_message(noscript) or _javascript_message(text),
            )
        except Exception:  # noqa: BLE001 -- hostile input must never break a check
            return empty

    def shell_evidence(self) -> str | None:
        """Why the page looks like an app shell, in words; None when it does not."""
        if self.empty_mounts:
            return f"its app mounts into an empty {self.empty_mounts[0]}"
        if self.inline_script_chars >= max(
            SHELL_SCRIPT_RATIO * self.visible_chars, SHELL_SCRIPT_CHARS
        ):
            return f"its scripts hold {_size(self.inline_script_chars)} of code and data"
        return None


def _parse(html: str | bytes) -> HtmlElement | None:
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    html = re.sub(r"^\s*<\?xml[^>]*>", "", xml_safe(html))
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html, parser=html_parser())
    except (lxml.etree.ParserError, ValueError):
        return None


def _visible_words(element: HtmlElement) -> int:
    return sum(word_count(text) for text in shown_text_nodes(element))


def _javascript_message(text: str) -> str | None:
    """The first "enable JavaScript" sentence that is about the page, not about one widget."""
    if "javascript" not in text.casefold():  # in every message; most pages have none
        return None
    for match in _JAVASCRIPT_REQUIRED.finditer(text):
        start = max(text.rfind(".", 0, match.start()), text.rfind("\n", 0, match.start())) + 1
        ends = [i for i in (text.find(".", match.end()), text.find("\n", match.end())) if i >= 0]
        sentence = " ".join(text[start : min(ends) + 1 if ends else len(text)].split())
        if not _WIDGET.search(sentence):
            return sentence[:160]
    return None


def _size(chars: int) -> str:
    return f"{chars / 1_000_000:.1f} MB" if chars >= 1_000_000 else f"{max(1, chars // 1000)} kB"
