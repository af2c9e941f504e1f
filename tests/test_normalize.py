"""normalize_text and fingerprint: what counts as the same text, and what is a change."""

from __future__ import annotations

import unicodedata

import pytest

from tracker.core.extract import Article, Block
from tracker.core.normalize import fingerprint, fingerprint_lines, normalize_text

BODY = [
    Block("The council voted 7 to 2 on Tuesday to approve the budget for next year."),
    Block("Opponents said the plan would raise property taxes by 4 percent."),
    Block("The mayor is expected to sign it within days."),
]


def article(*blocks: Block, title: str = "Council approves budget", byline: str = "By Ann Lee"):
    return Article(
        title=title,
        byline=byline,
        published="2019-11-20",
        modified=None,
        text="\n\n".join(b.text for b in blocks),
        canonical_url=None,
        lang="en",
        headlines=(title,),
        blocks=tuple(blocks),
    )


def with_block(index: int, block: Block) -> Article:
    blocks = list(BODY)
    blocks.insert(index, block)
    return article(*blocks)


BASE = fingerprint(article(*BODY))


# --- normalize_text ---------------------------------------------------------------------------


def test_nfc_and_nfd_spellings_are_the_same_text() -> None:
    word = "Café São Paulo"
    assert normalize_text(unicodedata.normalize("NFD", word)) == normalize_text(word)
    assert normalize_text(unicodedata.normalize("NFD", word)) == unicodedata.normalize("NFC", word)


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u00ad", "\ufeff", "\u2060", "\u200e", "\u202c"], ids=repr
)
def test_invisible_characters_are_removed(invisible: str) -> None:
    assert normalize_text(f"break{invisible}ing news") == "breaking news"


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", "\u3000", "\t", "  "], ids=repr)
def test_every_kind_of_space_becomes_one_space(space: str) -> None:
    assert normalize_text(f"10{space}people") == "10 people"


def test_line_breaks_are_unified_and_paragraph_breaks_kept() -> None:
    assert normalize_text("one\r\ntwo\rthree\u2028four") == "one\ntwo\nthree\nfour"
    assert normalize_text("  first  \n\n\n\n  second  ") == "first\n\nsecond"


def test_joiners_that_change_spelling_are_kept() -> None:
    persian = "می\u200cخواهم"  # zero-width non-joiner is part of the word
    assert normalize_text(persian) == persian


# --- fingerprint: the same story ------------------------------------------------------------


def test_fingerprint_is_a_hex_digest_and_deterministic() -> None:
    assert len(BASE) == 64 and int(BASE, 16) >= 0
    assert fingerprint(article(*BODY)) == BASE


def test_nfd_and_invisible_characters_do_not_change_the_fingerprint() -> None:
    spelled = [Block(unicodedata.normalize("NFD", b.text).replace(" ", "\u00a0", 1)) for b in BODY]
    spelled[0] = Block(spelled[0].text.replace("council", "coun\u200bcil"))
    assert fingerprint(article(*spelled)) == BASE


@pytest.mark.parametrize(
    "chrome",
    [
        Block(
            "RELATED: Storm knocks out power to thousands",
            links=("Storm knocks out power to thousands",),
        ),
        Block("42 Comments"),
        Block("Comments (42)"),
        Block("1.2K shares"),
        Block("5 min read"),
        Block("Updated 10:42 a.m. ET Nov. 20, 2019"),
        Block("Published 3 hours ago"),
        Block("Last updated: 2019-11-20T10:42:00Z"),
        Block("© 2019 The Associated Press. All rights reserved."),
        Block("Copyright 2019 NBCUniversal Media, LLC. All rights reserved."),
        Block("Advertisement"),
        Block("Story continues below advertisement"),
        Block("https://www.example.com/news/article-14848175.php"),
    ],
    ids=lambda block: block.text[:30],
)
def test_chrome_blocks_inside_the_body_are_left_out(chrome: Block) -> None:
    assert fingerprint(with_block(1, chrome)) == BASE


def test_a_label_heading_a_link_list_is_left_out_with_it() -> None:
    links = ("Stocks slide as investors weigh tariffs", "Court blocks voting law")
    trending = [Block("Trending Now", kind="head")] + [
        Block(t, links=(t,), kind="item") for t in links
    ]
    assert fingerprint(article(BODY[0], *trending, *BODY[1:])) == BASE


def test_market_data_and_shop_prices_in_links_are_masked() -> None:
    def quoted(change: str, price: str) -> Article:
        first = Block(
            f"Shares of Boeing (BA {change}) rose; the speaker (${price} at Amazon) sold out.",
            links=(f"BA {change}", f"${price} at Amazon"),
        )
        return article(first, *BODY[1:])

    assert fingerprint(quoted("+1.24%", "199")) == fingerprint(quoted("-0.53%", "179"))


def test_relative_times_inside_a_paragraph_are_masked() -> None:
    def said(ago: str) -> Article:
        return article(Block(f"{BODY[0].text} The vote came {ago}."), *BODY[1:])

    assert fingerprint(said("3 minutes ago")) == fingerprint(said("12 minutes ago"))


def test_a_share_box_with_the_page_address_is_left_out() -> None:
    def shared(url: str) -> Article:
        blocks = [*BODY[:1], Block(url), *BODY[1:]]
        return Article(**{**article(*blocks).__dict__, "canonical_url": "https://example.com/a-1"})

    own = Article(**{**article(*BODY).__dict__, "canonical_url": "https://example.com/a-1"})
    assert fingerprint(shared("https://www.example.com/a-1")) == fingerprint(own)
    assert fingerprint(shared("https://www.example.com/a-2")) == fingerprint(own)


def test_a_source_url_counts_but_its_tracking_tokens_do_not() -> None:
    def cited(url: str) -> Article:
        blocks = [*BODY[:1], Block(url, links=(url,)), *BODY[1:]]
        return Article(**{**article(*blocks).__dict__, "canonical_url": "https://news.example/a"})

    source = "http://www.example.com/2013/02/report.html"
    assert fingerprint(cited(f"{source}#ixzz2PpyAj3AN")) == fingerprint(cited(f"{source}#ixzz9Q"))
    assert fingerprint(cited(f"{source}?utm_source=a")) == fingerprint(
        cited(f"{source}?utm_source=b")
    )
    assert fingerprint(cited(source)) != fingerprint(
        Article(**{**article(*BODY).__dict__, "canonical_url": "https://news.example/a"})
    )
    assert fingerprint(cited(source)) != fingerprint(cited(source.replace("2013", "2014")))


def test_schedules_and_periods_are_not_time_stamps() -> None:
    for text in (
        "9.30 A.M. / 7.00 P.M.",
        "29 November 2018 | 20 January 2019",
        "2018.04.05 ~ OPEN RUN",
    ):
        assert fingerprint(with_block(1, Block(text))) != BASE, text


def test_a_period_of_years_in_prose_is_not_masked() -> None:
    def said(ago: str) -> Article:
        return article(Block(f"{BODY[0].text} It began {ago}."), *BODY[1:])

    assert fingerprint(said("18 years ago")) != fingerprint(said("28 years ago"))


def test_ignore_patterns_leave_matching_lines_out() -> None:
    promo = Block("Subscribe today for just $1 a week")
    other = Block("Subscribe today for just $2 a week")
    assert fingerprint(with_block(2, promo), ignore_patterns=[r"^Subscribe today"]) == fingerprint(
        with_block(2, other), ignore_patterns=[r"^Subscribe today"]
    )
    assert fingerprint(with_block(2, promo)) != fingerprint(with_block(2, other))


def test_an_invalid_ignore_pattern_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid ignore pattern"):
        fingerprint(article(*BODY), ignore_patterns=["(unclosed"])


# --- fingerprint: a real change -------------------------------------------------------------


def edited(index: int, old: str, new: str) -> Article:
    blocks = list(BODY)
    blocks[index] = Block(blocks[index].text.replace(old, new, 1), links=blocks[index].links)
    assert blocks[index] != BODY[index]
    return article(*blocks)


def test_one_number_edit_is_caught() -> None:
    assert fingerprint(edited(1, "4 percent", "5 percent")) != BASE
    assert fingerprint(edited(0, "7 to 2", "7 to 3")) != BASE


def test_one_word_edit_is_caught() -> None:
    assert fingerprint(edited(2, "sign", "veto")) != BASE


def test_one_word_edit_inside_prose_link_text_is_caught() -> None:
    def linked(words: str) -> Article:
        return article(Block(f"The plan {words} last week.", links=(words,)), *BODY[1:])

    assert fingerprint(linked("was first reported")) != fingerprint(linked("was later reported"))


def test_a_price_in_prose_link_text_is_not_masked() -> None:
    def linked(amount: str) -> Article:
        return article(
            Block(f"It raised up to ${amount} billion.", links=(f"up to ${amount} billion",))
        )

    assert fingerprint(linked("8")) != fingerprint(linked("9"))


def test_added_and_removed_paragraphs_are_caught() -> None:
    assert fingerprint(with_block(3, Block("Update: The mayor signed the budget Friday."))) != BASE
    assert fingerprint(article(*BODY[:2])) != BASE


def test_punctuation_edit_is_caught() -> None:
    assert fingerprint(edited(2, "days.", "days!")) != BASE


def test_headline_and_byline_changes_are_caught() -> None:
    assert fingerprint(article(*BODY, title="Council rejects budget")) != BASE
    assert fingerprint(article(*BODY, byline="By Ann Lee and Bo Chan")) != BASE


def test_every_headline_source_counts() -> None:
    base = article(*BODY)
    seo = Article(**{**base.__dict__, "headlines": (base.title, "Budget approved: what it means")})
    seo_changed = Article(
        **{**base.__dict__, "headlines": (base.title, "Budget passes: what it means")}
    )
    assert fingerprint(seo) != fingerprint(seo_changed)


def test_plain_text_articles_without_blocks_are_fingerprinted_by_paragraph() -> None:
    plain = Article("T", None, None, None, "One para.\n\n42 Comments\n\nTwo para.", None, None)
    same = Article("T", None, None, None, "One para.\n\n57 Comments\n\nTwo para.", None, None)
    assert fingerprint(plain) == fingerprint(same)
    assert fingerprint_lines(plain) == ["headline\tT", "body\tOne para.", "body\tTwo para."]


# --- link-dense blocks that are the story's own ------------------------------------------------


def test_a_short_paragraph_before_a_related_link_is_not_taken_for_its_label() -> None:
    def performance(year: str) -> Article:
        related = Block("RELATED: Storm knocks out power", links=("Storm knocks out power",))
        return article(BODY[0], Block(f"{year} Jeongdong Theater Tradition Series"), related)

    assert fingerprint(performance("2018")) != fingerprint(performance("2019"))


def test_a_price_inside_a_phrase_of_the_sentence_is_the_writers() -> None:
    def deals(price: str) -> Article:
        phrase = f"various MacBook models from ${price} at Amazon"
        return article(Block(f"Today's best deals include {phrase}.", links=(phrase,)), *BODY[1:])

    assert fingerprint(deals("700")) != fingerprint(deals("699"))


@pytest.mark.parametrize(
    "address", ["https://t.co/HO1ZRs9T1P", "DOI: 10.1007/978-3-319-09575-2_199-1"]
)
def test_a_link_that_is_an_address_is_a_citation_not_chrome(address: str) -> None:
    def cited(link: str) -> Article:
        return article(*BODY, Block(f"we're on it. {link}", links=(link,)))

    edited_address = address.replace("1", "2", 1)
    assert fingerprint(cited(address)) != fingerprint(cited(edited_address))
    assert fingerprint(cited(address)) != BASE


def test_a_handle_is_not_an_address() -> None:
    # An author's handle under the story is bio chrome, as link-only lines are.
    assert fingerprint(with_block(3, Block("@trevorjd22", links=("@trevorjd22",)))) == BASE


def test_a_reference_list_entry_counts() -> None:
    entry = "[2] Joint Commission National Patient Safety Goal: Alarm Management"
    assert fingerprint(article(*BODY, Block(entry, links=(entry,)))) != BASE


def test_a_linked_sentence_with_a_card_after_it_is_prose() -> None:
    def teaser(years: str) -> Article:
        sentence = f"A new game is finally coming out after {years} years of waiting."
        linked = Block(f"{sentence} ($199 at Amazon)", links=(sentence, "$199 at Amazon"))
        return article(BODY[0], linked, *BODY[1:])

    assert fingerprint(teaser("12")) != fingerprint(teaser("10"))


def test_a_linked_subheading_over_prose_counts() -> None:
    product = "Satechi 72W USB-C Power Delivery Car Charger"
    heading = Block(product, links=(product,), kind="head")
    prose = Block("Apple first started replacing its MagSafe connector with USB-C in 2015.")
    with_heading = article(*BODY, heading, prose)
    assert fingerprint(with_heading) != fingerprint(article(*BODY, prose))
    # Headlines of other stories, one after the other, stay chrome.
    other = Block("Court blocks voting law", links=("Court blocks voting law",), kind="head")
    assert fingerprint(article(*BODY[:1], heading, other, *BODY[1:])) == BASE
