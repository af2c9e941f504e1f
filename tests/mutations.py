"""Make a real news page drift the way live pages do, to test the change fingerprint.

A `LivePage` wraps one real page and knows which of its elements are article paragraphs (from
the corpus' ground-truth article body). Mutations come in two families:

- chrome mutations change what a live page changes by itself: link lists and teasers outside
  the article are reordered or replaced, numbers outside the article tick, a "Trending" box
  appears, script nonces and cache-busting tokens change; and, *inside* the article container,
  related-story blocks rotate, comment/share counts tick, stock-quote and price hover cards in
  paragraphs move, "Updated ..." stamps advance, copyright lines and ad slots change.
  The in-article widgets are installed once (`install_in_article_chrome`) as a site template
  would render them, then drift.
- article mutations are what an editor does: add, delete or edit a paragraph (one word, one
  number), change the headline (in all places, or only the visible h1, or only the meta titles),
  append a correction.

The markup of every widget copies patterns seen on real news sites. Nothing here knows how the
extractor or the fingerprint work: the markers that locate article paragraphs are stripped
before the page is serialised.
"""

from __future__ import annotations

import copy
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

__all__ = [
    "ARTICLE_MUTATIONS",
    "CHROME_MUTATIONS",
    "EXPECTED_KINDS",
    "LivePage",
]

_MARK = "data-mut"  # marker attribute, stripped before serialising

_HEADLINES = [
    "Stocks slide as investors weigh new tariff threats",
    "City council approves budget after marathon session",
    "Storm knocks out power to thousands across the region",
    "Scientists map a hidden ocean beneath an icy moon",
    "Star quarterback out for season with knee injury",
    "Five things to know before the markets open",
    "Lawmakers push for vote on infrastructure bill",
    "Review: the new phone is fast, but the battery lags",
    "Police identify suspect in downtown robbery",
    "How to watch tonight's meteor shower",
    "Airline cancels hundreds of flights amid staffing crunch",
    "The best deals you can still get this weekend",
    "Heat wave expected to break records on Thursday",
    "Court blocks controversial voting law",
    "Inside the race to build a better battery",
    "Former official testifies in closed-door hearing",
    "Local bakery wins national award",
    "What the new tax rules mean for your refund",
    "Opinion: We need a better plan for housing",
    "Wildfire forces evacuations in mountain towns",
    "Celebrity couple announce split after ten years",
    "Company recalls 40,000 cars over brake issue",
    "Museum returns looted artifacts",
    "Watch: dramatic rescue caught on camera",
]
_WORDS = [
    "officials",
    "residents",
    "federal",
    "morning",
    "report",
    "agency",
    "critics",
    "company",
    "leaders",
    "previously",
    "quickly",
    "several",
    "announced",
    "confirmed",
    "denied",
    "major",
    "local",
    "national",
    "senior",
    "recent",
    "public",
    "private",
    "earlier",
    "later",
]
_SENTENCES = [
    "Officials said on {day} that {n} more people had been evacuated from the area.",
    "A spokesperson for the agency declined to comment further, citing the ongoing review.",
    "The company said in a statement that it would cooperate fully with investigators.",
    "Update: Authorities confirmed {n} additional cases late {day}, bringing the total to {m}.",
    "Witnesses described a chaotic scene as emergency crews arrived within minutes.",
    "The vote is expected to take place next week, according to two people familiar with it.",
    "This story has been updated with comment from the mayor's office.",
    "Earlier, the governor had said the state would not seek federal assistance.",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_TICKERS = [("BA", "Boeing"), ("AAPL", "Apple"), ("MSFT", "Microsoft"), ("TSLA", "Tesla")]
_SHOPS = ["Amazon", "Best Buy", "Walmart", "Target"]

_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)|\ball rights reserved\b", re.IGNORECASE)
_BLOCKISH = [
    "p",
    "div",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "td",
    "dd",
    "figcaption",
    "pre",
    "section",
    "article",
]


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return " ".join(re.findall(r"\w+", text.casefold()))


def _without_second_renderings(paragraphs: list[HtmlElement], body: str) -> list[HtmlElement]:
    """Leave out elements that are not paragraphs although their text is the story's.

    Some pages render the story twice, the second time as one block of text (a teaser or a
    serialised copy): an element holding the text of several paragraphs is not a paragraph.
    Nor is an excerpt cut short with an ellipsis ("Good morning! This is the news you...").
    And where the page shows one paragraph's text in more elements than the ground truth holds
    it (a photo caption repeating the first paragraph), the extra copies are not paragraphs:
    the ones kept are those among the most other paragraphs (the body, not the caption box).
    """
    texts = {el: _norm(el.text_content()) for el in paragraphs}
    siblings: dict[HtmlElement | None, int] = {}
    for element in paragraphs:
        siblings[element.getparent()] = siblings.get(element.getparent(), 0) + 1
    copies: dict[str, list[HtmlElement]] = {}
    for element in paragraphs:
        copies.setdefault(texts[element], []).append(element)
    extra = set()
    for text, elements in copies.items():
        allowed = max(1, body.count(text))
        if len(elements) > allowed:
            ranked = sorted(elements, key=lambda el: -siblings[el.getparent()])
            extra.update(ranked[allowed:])
    kept = []
    for element in paragraphs:
        if element in extra:
            continue
        text = texts[element]
        held = {t for t in texts.values() if t in text and t != text}
        if len(held) >= 2:
            continue
        if element.text_content().strip().endswith(("...", "…")) and any(
            other is not element and text in t and t != text for other, t in texts.items()
        ):
            continue
        kept.append(element)
    return kept


_HIDDEN_ANCESTOR = (
    "ancestor-or-self::*[@hidden or @aria-hidden='true'"
    " or contains(translate(@style, ' ', ''), 'display:none')"
    " or contains(translate(@style, ' ', ''), 'visibility:hidden')]"
    " | ancestor::template | ancestor::noscript"
)


def _site(url: str | None) -> str | None:
    """'https://www.bbc.co.uk/news/x' -> 'bbc': the name of the site, without its suffixes."""
    host = urlsplit(url or "").hostname or ""
    labels = [label for label in host.split(".") if label != "www"]
    while len(labels) > 1 and len(labels[-1]) <= 3:
        labels.pop()  # 'uk', 'co', 'com': a public suffix, not the site's name
    return labels[-1] if labels and labels[-1] else None


def _site_of_page(tree: HtmlElement) -> str | None:
    for url in tree.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        if _site(url):
            return _site(url)
    return None


def _is_related_link(element: HtmlElement, text: str, site: str | None) -> bool:
    """An element that is nothing but links to other stories of the same site: a related-story
    link, or a box of them under a label ("Story Timeline"). Linked prose ends like a sentence."""
    ancestor = next(element.iterancestors("a"), None)
    links = [ancestor] if ancestor is not None else element.xpath("descendant-or-self::a[@href]")
    linked, count = 0, 0
    for link in links:
        href = link.get("href") or ""
        if href.startswith(("#", "javascript:")):
            continue
        if href.startswith("//"):
            href = "https:" + href
        if "//" not in href or (site is not None and _site(href) == site):
            linked += len(_norm(link.text_content()).split())
            count += 1
    words = len(text.split())
    sentence = re.search(r"[.!?…][\"'”’)]*$", element.text_content().strip())
    # One link must be all of the text ("Your <a>email list will grow</a>" is a bullet point);
    # a box of several may carry a short label.
    whole = linked == words if count == 1 else linked >= words - 2
    return count > 0 and whole and not sentence


def _el(markup: str) -> HtmlElement:
    return lxml.html.fragment_fromstring(markup)


@dataclass
class LivePage:
    """A real page with its article paragraphs located, ready to be mutated in place."""

    tree: HtmlElement
    rng: random.Random
    article_words: str = ""  # the ground-truth body, normalised

    @classmethod
    def from_html(cls, html: str, article_body: str, seed: int = 0) -> LivePage:
        tree = lxml.html.document_fromstring(html)
        page = cls(tree=tree, rng=random.Random(seed), article_words=_norm(article_body))
        page._mark_article(article_body)
        return page

    def copy(self) -> LivePage:
        return LivePage(
            tree=copy.deepcopy(self.tree),
            rng=random.Random(self.rng.random()),
            article_words=self.article_words,
        )

    def is_article_text(self, element: HtmlElement) -> bool:
        """Text of the story itself, even where the template puts it outside the container."""
        text = _norm(element.text_content())
        return len(text.split()) >= 3 and text in self.article_words

    def html(self) -> str:
        tree = copy.deepcopy(self.tree)
        for element in tree.xpath(f"//*[@{_MARK}]"):
            del element.attrib[_MARK]
        return lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")

    # -- locating the article -----------------------------------------------------------------

    def _mark_article(self, article_body: str) -> None:
        body = _norm(article_body)
        site = _site_of_page(self.tree)
        candidates = []
        for element in self.tree.iter(*_BLOCKISH):
            if element.xpath("ancestor::script|ancestor::style|ancestor::head"):
                continue
            # Text a reader never sees (a video end card with display:none, a hidden
            # template) is no paragraph of the story, even where the ground truth's words match.
            if element.xpath(_HIDDEN_ANCESTOR):
                continue
            text = _norm(element.text_content())
            # Copyright notices and related-story links are page chrome (the issue's own
            # list) even where the ground truth kept them.
            if (
                len(text.split()) >= 6
                and text in body
                and not _COPYRIGHT.search(text)
                and not _is_related_link(element, text, site)
            ):
                candidates.append(element)
        chosen = set(candidates)
        # Keep the innermost elements: a div wrapping one <p> is not a paragraph of its own.
        paragraphs = [el for el in candidates if not any(d in chosen for d in el.iterdescendants())]
        paragraphs = _without_second_renderings(paragraphs, body)
        for element in paragraphs:
            element.set(_MARK, "p")
        if paragraphs:
            container = self._common_container(paragraphs)
            container.set(_MARK, "container" if container.get(_MARK) != "p" else "p")

    @staticmethod
    def _common_container(paragraphs: list[HtmlElement]) -> HtmlElement:
        chains = [list(el.iterancestors()) for el in paragraphs]
        # The deepest ancestor shared by most paragraphs (stray matches elsewhere are ignored).
        counts: dict[HtmlElement, int] = {}
        for chain in chains:
            for ancestor in chain:
                counts[ancestor] = counts.get(ancestor, 0) + 1
        need = max(1, int(len(paragraphs) * 0.8))
        best = None
        for ancestor in chains[0] + [a for c in chains[1:] for a in c]:
            if counts[ancestor] >= need and (
                best is None
                or len(list(ancestor.iterancestors())) > len(list(best.iterancestors()))
            ):
                best = ancestor
        if best is None:
            return paragraphs[0].getparent()
        # An intro paragraph before a list of items is not stray: when the parent of the best
        # ancestor holds every paragraph, that parent is the article container.
        parent = best.getparent()
        if (
            counts[best] < len(paragraphs)
            and parent is not None
            and parent.tag not in ("body", "html")
            and counts.get(parent, 0) == len(paragraphs)
        ):
            return parent
        return best

    @property
    def paragraphs(self) -> list[HtmlElement]:
        return self.tree.xpath(f"//*[@{_MARK}='p']")

    @property
    def container(self) -> HtmlElement | None:
        found = self.tree.xpath(f"//*[@{_MARK}='container']")
        return found[0] if found else (self.paragraphs[0].getparent() if self.paragraphs else None)

    def usable(self) -> bool:
        return len(self.paragraphs) >= 2 and self.container is not None

    def _in_container(self, element: HtmlElement | None) -> bool:
        container = self.container
        if container is None or element is None:
            return False
        return element is container or container in set(element.iterancestors())

    def _outside(self, element: HtmlElement) -> bool:
        """Neither in the article container nor wrapping it."""
        container = self.container
        if container is None:
            return True
        return not self._in_container(element) and element not in set(container.iterancestors())

    def _body(self) -> HtmlElement:
        body = self.tree.find("body")
        return body if body is not None else self.tree

    # -- in-article chrome, rendered once as a site template would ---------------------------

    def install_in_article_chrome(self) -> None:
        """Put the widgets that live inside article containers on real sites into this page."""
        container, paragraphs = self.container, self.paragraphs
        if container is None or not paragraphs:
            return
        rng = self.rng
        # Timestamp and counters above the body.
        first = paragraphs[0]
        meta = _el(
            '<div class="article-meta">'
            '<p class="timestamp"><time datetime="2019-11-20T10:42:00Z">'
            "Updated 10:42 a.m. ET Nov. 20, 2019</time></p>"
            '<a href="#comments" class="comment-count"><span class="count">42</span> Comments</a>'
            ' <span class="share-count">1.2K shares</span></div>'
        )
        meta.set(_MARK, "meta")
        first.addprevious(meta)
        # A related-story block after the second paragraph, in one of the common shapes.
        style = rng.choice(["inline", "list", "readmore"])
        related = _related_block(style, rng.sample(_HEADLINES, 3))
        related.set(_MARK, "related")
        paragraphs[min(1, len(paragraphs) - 1)].addnext(related)
        # An ad slot with its label between paragraphs.
        ad = _el(
            '<div class="ad-container"><span class="ad-label">Advertisement</span>'
            '<div id="div-gpt-ad-1" class="ad-slot"></div></div>'
        )
        ad.set(_MARK, "ad")
        paragraphs[len(paragraphs) // 2].addnext(ad)
        # Hover cards in one or two paragraphs.
        for paragraph in rng.sample(paragraphs, min(2, len(paragraphs))):
            _add_hover_card(paragraph, rng)
        # Copyright line at the end of the article body.
        notice = _el(
            '<p class="copyright">© 2019 The Associated Press. All rights reserved. This material'
            " may not be published, broadcast, rewritten or redistributed.</p>"
        )
        notice.set(_MARK, "copyright")
        paragraphs[-1].addnext(notice)


def _related_block(style: str, headlines: list[str]) -> HtmlElement:
    links = [f'<a href="/news/{_slug(h)}">{h}</a>' for h in headlines]
    if style == "inline":
        return _el(f'<p class="related-inline"><strong>RELATED:</strong> {links[0]}</p>')
    if style == "readmore":
        return _el(
            '<div class="read-more"><span>Read more:</span><ul>'
            + "".join(f"<li>{link}</li>" for link in links)
            + "</ul></div>"
        )
    return _el(
        '<aside class="related-coverage"><h3>Related coverage</h3><ul>'
        + "".join(f"<li>{link}</li>" for link in links)
        + "</ul></aside>"
    )


def _slug(text: str) -> str:
    return re.sub(r"\W+", "-", text.lower()).strip("-")


def _add_hover_card(paragraph: HtmlElement, rng: random.Random) -> None:
    kind = rng.choice(["quote", "price", "person"])
    if kind == "quote":
        symbol, _company = rng.choice(_TICKERS)
        card = _el(
            f'<span class="quote-inline"> (<a class="quote-link" data-symbol="{symbol}"'
            f' href="/quotes/{symbol}">{symbol} <span class="quote-change">+1.24%</span></a>)'
            "</span>"
        )
    elif kind == "price":
        shop = rng.choice(_SHOPS)
        card = _el(
            f'<span class="affiliate"> (<a href="https://www.{_slug(shop)}.com/dp/B07XJ8C8F5"'
            f' rel="sponsored nofollow">$199 at {shop}</a>)</span>'
        )
    else:
        card = _el(
            '<span class="hovercard"> (<a href="/people/jane-doe" data-hovercard="jane-doe">'
            'Jane Doe</a><span class="hovercard-body" hidden>Reporter · 12,345 followers ·'
            " 3 new stories today</span>)</span>"
        )
    card.set(_MARK, "hovercard")
    # Put it right after the paragraph's first sentence, as an inline mention.
    target = paragraph
    text = target.text or ""
    cut = text.find(". ")
    if cut > 0 and not len(paragraph):
        paragraph.text = text[:cut]
        card.tail = text[cut:]
        paragraph.insert(0, card)
    else:
        paragraph.append(card)


# --- chrome mutations ---------------------------------------------------------------------------

Mutation = Callable[[LivePage], bool]  # True when the mutation found something to change


def _bump(match: re.Match[str], rng: random.Random) -> str:
    digits = match.group(0)
    value = int(digits) + rng.randint(1, 9)
    return str(value).zfill(len(digits)) if digits.startswith("0") else str(value)


def _bump_numbers(text: str, rng: random.Random) -> str:
    return re.sub(r"\d+", lambda m: _bump(m, rng), text)


def _link_lists(page: LivePage) -> list[HtmlElement]:
    lists = []
    for element in page.tree.iter("ul", "ol"):
        items = element.findall("li")
        if len(items) >= 3 and all(item.find(".//a") is not None for item in items):
            lists.append(element)
    return lists


def reorder_link_lists_outside(page: LivePage) -> bool:
    lists = [el for el in _link_lists(page) if page._outside(el)]
    if not lists:
        return False
    for element in page.rng.sample(lists, min(3, len(lists))):
        items = element.findall("li")
        for item in items:
            element.remove(item)
        page.rng.shuffle(items)
        for item in items:
            element.append(item)
    return True


def replace_link_lists_outside(page: LivePage) -> bool:
    """A 'Most read' / 'Latest' list now shows other stories."""
    lists = [el for el in _link_lists(page) if page._outside(el)]
    if not lists:
        return False
    element = page.rng.choice(lists)
    for item in element.findall("li"):
        link = item.find(".//a")
        headline = page.rng.choice(_HEADLINES)
        for child in list(link):
            link.remove(child)
        link.text = headline
        link.set("href", f"/news/{_slug(headline)}-{page.rng.randint(1000, 9999)}")
    return True


def _in_widget(node: HtmlElement) -> bool:
    return any(n.get(_MARK) not in (None, "p", "container") for n in [node, *node.iterancestors()])


def _text_nodes(page: LivePage, inside: bool) -> list[tuple[HtmlElement, str]]:
    """Text nodes with digits, in or out of the article container, outside installed widgets."""
    found = []
    for element in page._body().iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        parent = element.getparent()
        has_text = bool(element.text and re.search(r"\d", element.text))
        if has_text and page._in_container(element) == inside and not _in_widget(element):
            found.append((element, "text"))
        has_tail = bool(parent is not None and element.tail and re.search(r"\d", element.tail))
        if has_tail and page._in_container(parent) == inside and not _in_widget(parent):
            found.append((element, "tail"))
    return found


def _is_story_heading(element: HtmlElement) -> bool:
    return element.tag == "h1" or any(a.tag == "h1" for a in element.iterancestors())


def bump_numbers_outside(page: LivePage) -> bool:
    """View counts, share counts, clocks, 'N min ago' in headers, sidebars and footers tick.

    The story's own headline (its h1) is left alone: it is article, wherever the template puts it.
    """
    nodes = [
        (element, attr)
        for element, attr in _text_nodes(page, inside=False)
        if not _is_story_heading(owner := element if attr == "text" else element.getparent())
        and not page.is_article_text(owner)
    ]
    if not nodes:
        return False
    for element, attr in page.rng.sample(nodes, max(1, len(nodes) // 3)):
        setattr(element, attr, _bump_numbers(getattr(element, attr), page.rng))
    return True


def rewrite_teasers_outside(page: LivePage) -> bool:
    """Teasers of other stories (sidebar cards, 'up next') are swapped for others."""
    teasers = []
    for element in page.tree.iter("p"):
        if not page._outside(element) or _in_widget(element) or page.is_article_text(element):
            continue
        if not 4 <= len(element.text_content().split()) <= 40:
            continue
        names = " ".join(
            f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')}"
            for el in [element, *list(element.iterancestors())[:3]]
        ).lower()
        if re.search(r"byline|author|dateline|timestamp|caption|credit", names):
            continue  # article metadata, not a teaser
        # A teaser sits in a card next to the headline link of the story it teases.
        if element.xpath("ancestor::footer|ancestor::header|ancestor::form|ancestor::nav"):
            continue
        card = element.getparent()
        for _ in range(2):
            if card is None or any(
                len(a.text_content().split()) >= 4 for a in card.xpath(".//a[@href]")
            ):
                break
            card = card.getparent()
        if (
            card is not None
            and not element.xpath(".//a")
            and any(len(a.text_content().split()) >= 4 for a in card.xpath(".//a[@href]"))
        ):
            teasers.append(element)
    if not teasers:
        return False
    for element in page.rng.sample(teasers, min(3, len(teasers))):
        for child in list(element):
            element.remove(child)
        element.text = page.rng.choice(_SENTENCES).format(
            day=page.rng.choice(_DAYS), n=page.rng.randint(2, 99), m=page.rng.randint(100, 999)
        )
    return True


def add_trending_box(page: LivePage) -> bool:
    """A 'Trending Now' box appears, in the sidebar or between article paragraphs."""
    headlines = page.rng.sample(_HEADLINES, 4)
    box = _el(
        '<aside class="trending-now"><h2 class="trending-title">Trending Now</h2><ol>'
        + "".join(f'<li><a href="/news/{_slug(h)}">{h}</a></li>' for h in headlines)
        + "</ol></aside>"
    )
    box.set(_MARK, "trending")
    for old in page.tree.xpath(f"//*[@{_MARK}='trending']"):
        old.drop_tree()
    paragraphs = page.paragraphs
    if paragraphs and page.rng.random() < 0.5:
        page.rng.choice(paragraphs[:-1] or paragraphs).addnext(box)
    else:
        container = page.container
        if container is not None and container.getparent() is not None:
            container.addnext(box)
        else:
            page._body().insert(0, box)
    return True


def change_tokens(page: LivePage) -> bool:
    """Script nonces, CSRF tokens, request ids, cache-busting query strings, build comments."""
    rng = page.rng

    def token(n: int = 16) -> str:
        return "".join(rng.choice("abcdef0123456789") for _ in range(n))

    for script in page.tree.iter("script"):
        if script.get("nonce") is not None:
            script.set("nonce", token(22))
        for attr in ("src",):
            value = script.get(attr)
            if value:
                script.set(attr, re.sub(r"([?&](?:v|ver|cb|_)=)[^&]*", rf"\g<1>{token(8)}", value))
        if script.text and re.search(r"\d", script.text):
            script.text = re.sub(
                r"\b\d{4,}\b", lambda m: str(rng.randint(10**5, 10**9)), script.text
            )
    for meta in page.tree.xpath("//meta[@name='csrf-token' or @name='request-id']"):
        meta.set("content", token(32))
    body = page._body()
    body.set("data-request-id", token(24))
    head = page.tree.find("head")
    if head is not None:
        nonce_script = _el(f'<script nonce="{token(22)}">window.__rid="{token(12)}";</script>')
        nonce_script.set(_MARK, "nonce")
        for old in page.tree.xpath(f"//*[@{_MARK}='nonce']"):
            old.drop_tree()
        head.append(nonce_script)
    body.append(lxml.etree.Comment(f" generated in {rng.randint(20, 900)} ms by {token(6)} "))
    return True  # the request id and build comment change on every response


def _mutate_marked(page: LivePage, mark: str, change: Callable[[HtmlElement], None]) -> bool:
    elements = page.tree.xpath(f"//*[@{_MARK}='{mark}']")
    for element in elements:
        change(element)
    return bool(elements)


def rotate_related_in_article(page: LivePage) -> bool:
    """The related-story block inside the article shows other stories."""

    def change(element: HtmlElement) -> None:
        links = element.findall(".//a")
        for link, headline in zip(links, page.rng.sample(_HEADLINES, len(links)), strict=True):
            link.text = headline
            link.set("href", f"/news/{_slug(headline)}")

    return _mutate_marked(page, "related", change)


def tick_counters_in_article(page: LivePage) -> bool:
    """Comment and share counts next to the article body go up."""

    def change(element: HtmlElement) -> None:
        count = element.find(".//span[@class='count']")
        count.text = str(int(count.text) + page.rng.randint(1, 30))
        share = element.find(".//span[@class='share-count']")
        share.text = f"{page.rng.randint(1, 9)}.{page.rng.randint(0, 9)}K shares"

    return _mutate_marked(page, "meta", change)


def advance_timestamp_in_article(page: LivePage) -> bool:
    """The 'Updated ...' stamp at the top of the article advances (absolute or relative)."""

    def change(element: HtmlElement) -> None:
        time = element.find(".//time")
        hour, minute = page.rng.randint(1, 12), page.rng.randint(0, 59)
        style = page.rng.choice(["absolute", "relative", "published"])
        if style == "absolute":
            time.text = f"Updated {hour}:{minute:02d} {page.rng.choice(['a.m.', 'p.m.'])} ET"
            time.text += f" Nov. {page.rng.randint(20, 28)}, 2019"
        elif style == "relative":
            time.text = f"Updated {page.rng.randint(2, 59)} minutes ago"
        else:
            time.text = f"Published {hour}:{minute:02d} PM EST, Wed November 20, 2019"
        time.set("datetime", f"2019-11-2{page.rng.randint(0, 8)}T{hour:02d}:{minute:02d}:00Z")

    return _mutate_marked(page, "meta", change)


def move_hover_cards(page: LivePage) -> bool:
    """Quotes, prices and follower counts in hover cards inside paragraphs change."""

    def change(element: HtmlElement) -> None:
        for node in element.iter():
            if node.text and re.search(r"\d", node.text):
                node.text = re.sub(
                    r"[+\-]\d+\.\d+%",
                    lambda _: (
                        f"{page.rng.choice('+-')}{page.rng.randint(0, 9)}."
                        f"{page.rng.randint(10, 99)}%"
                    ),
                    node.text,
                )
                node.text = re.sub(r"\$\d+", lambda _: f"${page.rng.randint(49, 399)}", node.text)
                node.text = re.sub(
                    r"\d[\d,]*(?= followers)|\d+(?= new)",
                    lambda _: f"{page.rng.randint(2, 20000):,}",
                    node.text,
                )

    return _mutate_marked(page, "hovercard", change)


def change_copyright_line(page: LivePage) -> bool:
    """The copyright notice gets a new year or wording."""

    def change(element: HtmlElement) -> None:
        year = page.rng.randint(2019, 2025)
        element.text = page.rng.choice(
            [
                f"© {year} The Associated Press. All rights reserved. This material may not be"
                " published, broadcast, rewritten or redistributed.",
                f"Copyright {year} The Associated Press. All Rights Reserved.",
                f"Copyright © {year} Associated Press. All rights reserved.",
            ]
        )

    return _mutate_marked(page, "copyright", change)


def move_ad_slot(page: LivePage) -> bool:
    """The in-article ad slot (with its 'Advertisement' label) moves to another gap."""
    ads = page.tree.xpath(f"//*[@{_MARK}='ad']")
    paragraphs = page.paragraphs
    if not ads or len(paragraphs) < 2:
        return False
    ad = ads[0]
    ad.getparent().remove(ad)
    ad.tail = None
    page.rng.choice(paragraphs[:-1]).addnext(ad)
    return True


CHROME_MUTATIONS: dict[str, Mutation] = {
    "reorder_link_lists_outside": reorder_link_lists_outside,
    "replace_link_lists_outside": replace_link_lists_outside,
    "bump_numbers_outside": bump_numbers_outside,
    "rewrite_teasers_outside": rewrite_teasers_outside,
    "add_trending_box": add_trending_box,
    "change_tokens": change_tokens,
    "rotate_related_in_article": rotate_related_in_article,
    "tick_counters_in_article": tick_counters_in_article,
    "advance_timestamp_in_article": advance_timestamp_in_article,
    "move_hover_cards": move_hover_cards,
    "change_copyright_line": change_copyright_line,
    "move_ad_slot": move_ad_slot,
}


# --- article mutations --------------------------------------------------------------------------


def _own_text_nodes(element: HtmlElement) -> list[tuple[HtmlElement, str]]:
    """Text nodes of a paragraph, leaving out widgets installed in it."""
    nodes = []
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        if node.text and not _in_widget(node):
            nodes.append((node, "text"))
        if node is not element and node.tail and not _in_widget(node.getparent()):
            nodes.append((node, "tail"))
    return nodes


def _top_level(page: LivePage, element: HtmlElement) -> HtmlElement:
    """The element, or the block holding it that sits directly in the article container."""
    container = page.container
    while element.getparent() is not None and element.getparent() is not container:
        if element.getparent().tag in ("body", "html"):
            break
        element = element.getparent()
    return element


def add_paragraph(page: LivePage) -> bool:
    paragraphs = page.paragraphs
    if not paragraphs:
        return False
    anchor = page.rng.choice(paragraphs)
    rng = page.rng
    text = " ".join(
        s.format(day=rng.choice(_DAYS), n=rng.randint(2, 99), m=rng.randint(100, 999))
        for s in rng.sample(_SENTENCES, 2)
    )
    new = lxml.html.Element(anchor.tag if anchor.tag in ("p", "div", "li") else "p")
    if anchor.get("class"):
        new.set("class", anchor.get("class"))
    new.text = text
    new.set(_MARK, "p")
    anchor.addnext(new)
    return True


def delete_paragraph(page: LivePage) -> bool:
    paragraphs = page.paragraphs
    if len(paragraphs) < 2:
        return False
    victim = page.rng.choice(paragraphs)
    victim.drop_tree()
    return True


def edit_one_word(page: LivePage) -> bool:
    rng = page.rng
    candidates = []
    for paragraph in page.paragraphs:
        for node, attr in _own_text_nodes(paragraph):
            for match in re.finditer(r"\b[^\W\d_]{3,}\b", getattr(node, attr)):
                candidates.append((node, attr, match))
    if not candidates:
        return False
    node, attr, match = rng.choice(candidates)
    old = match.group(0)
    new = rng.choice([w for w in _WORDS if w.casefold() != old.casefold()])
    if old[0].isupper():
        new = new.capitalize()
    value = getattr(node, attr)
    setattr(node, attr, value[: match.start()] + new + value[match.end() :])
    return True


def edit_one_number(page: LivePage) -> bool:
    rng = page.rng
    candidates = []
    for paragraph in page.paragraphs:
        for node, attr in _own_text_nodes(paragraph):
            for match in re.finditer(r"\d+", getattr(node, attr)):
                candidates.append((node, attr, match))
    if not candidates:
        return False
    node, attr, match = rng.choice(candidates)
    old = match.group(0)
    new = old
    while new == old:
        new = str(max(0, int(old) + rng.choice([-2, -1, 1, 2, 10]))).zfill(len(old))
    value = getattr(node, attr)
    setattr(node, attr, value[: match.start()] + new + value[match.end() :])
    return True


def append_correction(page: LivePage) -> bool:
    paragraphs = page.paragraphs
    if not paragraphs:
        return False
    note = lxml.html.Element("p")
    note.set(_MARK, "p")
    em = lxml.etree.SubElement(note, "em")
    em.text = (
        "Correction: An earlier version of this story misstated the number of people"
        f" evacuated. It was {page.rng.randint(100, 900)}, not {page.rng.randint(1000, 2000)}."
    )
    _top_level(page, paragraphs[-1]).addnext(note)
    return True


def change_headline(page: LivePage) -> bool:
    """Rewrite one word of the headline: everywhere, only the visible h1, or only meta titles."""
    rng = page.rng
    where = rng.choice(["everywhere", "h1", "meta"])
    og = page.tree.xpath("//meta[@property='og:title' or @name='twitter:title']")
    titles = page.tree.xpath("//title")
    visible = _visible_headline(page, og, titles)
    if where == "h1" and visible is None:
        where = "everywhere"
    if where == "meta" and not (og or titles):
        where = "everywhere"
    replacements = ["Officials", "Residents", "Critics", "Experts", "Investors"]
    old_new: dict[str, str] = {}

    def rewrite(text: str) -> str:
        words = re.findall(r"[^\W\d_]{4,}", text)
        if not words:
            return f"{rng.choice(replacements)}: {text}"
        target = words[len(words) // 2]
        word = rng.choice([w for w in replacements if w != target])
        return re.sub(rf"\b{re.escape(target)}\b", word, text, count=1)

    changed = False
    if where in ("everywhere", "h1") and visible is not None:
        for node in visible.iter():
            if node.text and re.search(r"[^\W\d_]{4,}", node.text):
                old = node.text
                node.text = rewrite(old)
                old_new[old] = node.text
                changed = True
                break
    if where in ("everywhere", "meta"):
        for meta in og:
            value = meta.get("content") or ""
            meta.set("content", rewrite(value))
            changed = True
        for title in titles:
            title.text = rewrite(title.text or "")
            changed = True
    return changed


def _visible_headline(page: LivePage, og: list, titles: list) -> HtmlElement | None:
    """The element showing the story's headline: the h1 (or, on templates that give the h1 to
    the site logo, the h2) that says what the meta titles say.

    A heading matches when it shares at least half of its words with the meta titles and
    covers at least half of the shortest of them (a site logo such as 'India Post' is in the
    titles too, but covers none of the headline).
    """
    metas = [_norm(m.get("content") or "") for m in og] + [_norm(t.text or "") for t in titles[:1]]
    metas = [m for m in metas if m]
    if not metas:
        h1s = [h for h in page.tree.iter("h1") if len(h.text_content().split()) >= 2]
        return h1s[0] if h1s else None
    words = set(" ".join(metas).split())
    headline = set(min(metas, key=len).split())

    def score(heading: HtmlElement) -> float:
        mine = set(_norm(heading.text_content()).split())
        if len(mine) < 2:
            return 0.0
        return min(len(mine & words) / len(mine), len(mine & headline) / len(headline))

    for tag in ("h1", "h2"):
        headings = [h for h in page.tree.iter(tag) if score(h) >= 0.5]
        if headings:
            return max(headings, key=score)
    return None


ARTICLE_MUTATIONS: dict[str, Mutation] = {
    "add_paragraph": add_paragraph,
    "delete_paragraph": delete_paragraph,
    "edit_one_word": edit_one_word,
    "edit_one_number": edit_one_number,
    "change_headline": change_headline,
    "append_correction": append_correction,
}

# The change kind (tracker.core.changes) each article mutation must be classified as.
EXPECTED_KINDS: dict[str, str] = {
    "add_paragraph": "paragraphs_added",
    "delete_paragraph": "paragraphs_removed",
    "edit_one_word": "text_edited",
    "edit_one_number": "text_edited",
    "change_headline": "headline",
    "append_correction": "correction",
}
