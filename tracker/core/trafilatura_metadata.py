"""The fields of trafilatura's metadata pass that extraction uses, each read only when it can
decide the article.

`trafilatura.bare_extraction(with_metadata=True)` reads every metadata field before the body:
htmldate's date search, the site name, categories, tags, the licence. That was a fifth of a
full read, and most of it was thrown away: extraction (tracker.core.extract) keeps only the
author always, and the date, title and URL only where the page's own metadata names none (its
`_page_metadata` wins over trafilatura's). So extraction asks trafilatura for the body alone
and reads here the fields it needs, with trafilatura's own steps in its own order
(`trafilatura.metadata.extract_metadata`), so that each field read is the one
`bare_extraction` would have returned. None of these steps changes the tree (trafilatura's
author and htmldate's date search work on copies), so skipping them leaves the body as it was.
"""

from __future__ import annotations

import contextlib
from configparser import ConfigParser
from dataclasses import dataclass

from lxml.html import HtmlElement

__all__ = ["TrafilaturaMetadata", "read_metadata"]


@dataclass(frozen=True)
class TrafilaturaMetadata:
    """What trafilatura reads from a page's metadata; a field not asked for is None."""

    author: str | None
    title: str | None = None
    url: str | None = None
    date: str | None = None


def read_metadata(
    tree: HtmlElement,
    url: str | None,
    config: ConfigParser,
    *,
    title: bool,
    canonical: bool,
    date: bool,
) -> TrafilaturaMetadata:
    """The author of the page `tree`, and its title, canonical URL and date when asked, as
    `bare_extraction(tree, url=url, config=config, with_metadata=True)` reads them.

    Raises what trafilatura raises (bare_extraction turns TypeError and ValueError into
    "no document")."""
    from trafilatura.metadata import (
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_title,
        extract_url,
        find_date,
    )
    from trafilatura.settings import set_date_params

    document = examine_meta(tree)
    if document.author and " " not in document.author:
        document.author = None  # trafilatura's rule: a one-word meta author is a handle
    # trafilatura's own guard: a bug in its JSON reader costs the JSON's fields, not the page.
    with contextlib.suppress(Exception):
        document = extract_meta_json(tree, document)
    if title and not document.title:
        document.title = extract_title(tree)
    if not document.author:
        document.author = extract_author(tree)
    # The URL is also where htmldate looks for a date first.
    if (canonical or date) and not document.url:
        document.url = extract_url(tree, url)
    if date:
        # What bare_extraction's Extractor passes to htmldate for this configuration.
        params = set_date_params(config.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
        document.date = find_date(tree, **{**params, "url": document.url})
    document.clean_and_trim()  # trafilatura trims every field it returns
    return TrafilaturaMetadata(
        author=document.author,
        title=document.title if title else None,
        url=document.url if canonical else None,
        date=document.date if date else None,
    )
