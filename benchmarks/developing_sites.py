# Page markup reads best a tag run per line, as the sites write it: long lines are allowed here.
# ruff: noqa: E501
"""Developing news stories as real CMSs serve them: the page generator of benchmarks/developing.py.

A `Story` is one developing story of one type (`short` breaking item, `medium` article, `live`
blog, `js` JavaScript-rendered article) published by one CMS markup family. Its article state
is worked out for every round in advance from a seeded RNG: round 0 is the first publication,
odd rounds change nothing in the article ("chrome" rounds; some are "republish" rounds that move
only the visible "Updated" time and the JSON-LD dateModified), even rounds make one real edit
(`EDIT_KINDS`, only where the kind makes sense for the story type). `Story.truth(round)` is the
article text as served that round: the headline and the paragraphs (or the live entries, with
their headings as displayed).

Every request renders the page afresh, with its own page chrome drawn from a per-request RNG:
view and comment counters, relative times ("Updated 17 minutes ago"), rotating "Most popular"
and related links, ad slots, newsletter boxes, share bars with counts, "Read more" links and
author bios with follower counts, inside the article as well as around it, the way the
families they imitate place them. The families:

- ``wordpress``: a theme's ``article.post > div.entry-content`` with ad-inserter blocks,
  Jetpack share and related posts, a Yoast JSON-LD graph (no body), an author box;
- ``arc``: Arc XP server-rendered, ``article.article-body`` of ``p[data-el=text]`` inside
  ``div[data-fusion-component]`` wrappers, with the document also in ``Fusion.globalContent``;
- ``localpaper``: a table-layout small-town paper, the story in a ``td`` with ``<font>`` and
  paragraphs separated by ``<br><br>``, a hit counter and a weather box;
- ``bbc``: ``div[data-component=text-block]`` blocks, links blocks, "Most read";
- ``guardian``: ``div#maincontent`` / ``div.article-body-commercial-selector``; its live blogs
  are ``article.block`` entries with "12m ago" times, key events and a LiveBlogPosting JSON-LD;
- ``drupal``: ``div.field--name-body`` inside ``article.node--type-article``, views blocks;
- ``nextjs``: an app shell whose article is only in ``<script id="__NEXT_DATA__">``;
- ``redux``: an app shell whose article is only in ``window.__INITIAL_STATE__ = {...}``;
- ``fusion``: an Arc app shell whose article is only in ``Fusion.globalContent``;
- ``spa``: a purely client-rendered app: the page carries no article at all, its bundle
  fetches it from ``/api/v2/stories/<slug>`` and renders it (only a browser sees it).

`DevelopingSite` serves all stories from a loopback HTTP server in a thread; the benchmark sets
`site.round` before each pass of checks.
"""

from __future__ import annotations

import html
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORY_TYPES = ("short", "medium", "live", "js")
STATIC_FAMILIES = ("wordpress", "arc", "localpaper", "bbc", "guardian", "drupal")
JS_FAMILIES = ("nextjs", "redux", "fusion", "spa")
FAMILIES = STATIC_FAMILIES + JS_FAMILIES
# Families whose article no plain fetch can read: only a browser running the page's script.
CLIENT_RENDERED = ("spa",)

EDIT_KINDS = (
    "paragraph-added",
    "number-corrected",
    "word-edited",
    "paragraph-removed",
    "headline-rewritten",
    "correction-appended",
    "byline-changed",
    "live-entry-added",
    "live-entry-edited",
)
ARTICLE_EDITS = EDIT_KINDS[:7]
LIVE_EDITS = (
    "live-entry-added",
    "live-entry-edited",
    "number-corrected",
    "headline-rewritten",
    "byline-changed",
)
EDITS_FOR_TYPE = {"short": ARTICLE_EDITS, "medium": ARTICLE_EDITS, "js": ARTICLE_EDITS}
EDITS_FOR_TYPE["live"] = LIVE_EDITS

# Round kinds besides the edit kinds.
FIRST, CHROME, REPUBLISH = "first", "chrome", "republish"

BASE_TIME = datetime(2025, 3, 11, 5, 40, tzinfo=UTC)
ROUND_MINUTES = 20

# -- words ------------------------------------------------------------------------------

PLACES = [
    "Millbrook", "Eastwood", "Harlow Park", "Port Denby", "Ashford Heights", "Riverside",
    "Calder Valley", "North Fenwick", "Stanmore", "Glenrock", "Oakhurst", "Bayfield",
]  # fmt: skip
STREETS = [
    "Elm Street", "Market Road", "Harbour Avenue", "Station Lane", "Kingsway", "Mill Road",
    "Bridge Street", "Queens Parade", "Route 9", "the Old Coast Road",
]  # fmt: skip
OFFICIALS = [
    ("Maria Delgado", "fire chief"), ("Tom Okafor", "police superintendent"),
    ("Helen Marsh", "county executive"), ("Raj Patel", "emergency management director"),
    ("Claire Dubois", "mayor"), ("Samuel Reyes", "public works commissioner"),
    ("Anna Kowalski", "hospital spokeswoman"), ("David Mensah", "transit authority chief"),
    ("Lucy Tran", "school superintendent"), ("George Whitaker", "sheriff"),
]  # fmt: skip
AGENCIES = [
    "county fire service", "state police", "Department of Transportation",
    "regional water authority", "city council", "National Weather Service",
    "health department", "Coast Guard", "utility company", "transit authority",
]  # fmt: skip
HOSPITALS = ["St Mary's Hospital", "Riverside General", "the university medical centre"]
REPORTERS = [
    "Jane Whitfield", "Omar Haddad", "Priya Nair", "Lukas Brandt", "Sofia Marquez",
    "Daniel O'Connor", "Mei Lin", "Aisha Bello", "Peter Novak", "Grace Holloway",
]  # fmt: skip
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

TOPICS: dict[str, dict[str, list[str]]] = {
    "fire": {
        "headlines": [
            "Fire at {place} warehouse forces {n} families from their homes",
            "Crews battle large fire on {street} in {place}",
            "{n} firefighters tackle blaze at {place} industrial estate",
        ],
        "titles": ["Fire contained", "Roads reopen", "Residents allowed back", "Cause unknown"],
        "sentences": [
            "Firefighters were called to the building on {street} shortly after {time}.",
            "At the height of the blaze {n} fire engines and about {n2} firefighters were at "
            "the scene.",
            "Thick smoke could be seen from across {place}, and people living nearby were told "
            "to keep their windows and doors closed.",
            "The {agency} said the fire had spread to the roof of a neighbouring unit.",
            "{n} people were treated for smoke inhalation, one of whom was taken to {hospital}.",
            "Investigators said it was too early to say what caused the fire.",
            "The warehouse, which stores furniture and paper goods, employs about {n2} people.",
            "A rest centre has been opened at the {place} community hall for those who had to "
            "leave their homes.",
            "{street} is expected to stay closed while crews damp down the site.",
            "Water pressure in the area may be low for several hours, the utility company said.",
        ],
    },
    "storm": {
        "headlines": [
            "Storm brings flooding to {place} as {n} homes lose power",
            "Severe weather warning for {place} with gusts of {n2} mph expected",
            "Flood barriers go up in {place} as river rises",
        ],
        "titles": ["River peaks", "Power restored", "Warning extended", "Schools closed"],
        "sentences": [
            "Gusts of up to {n2} mph were recorded overnight, the National Weather Service said.",
            "About {n3} homes and businesses were without power on {weekday} morning.",
            "The river at {place} rose {n} feet in six hours and was still rising.",
            "Several roads, including {street}, were closed because of fallen trees.",
            "The utility company said crews would work through the night but warned some "
            "customers could be without power until {weekday}.",
            "Forecasters said another band of heavy rain was expected later in the day.",
            "Residents in low-lying areas were urged to move valuables upstairs.",
            "{n} schools in the district announced they would stay closed.",
            "Emergency services said they had carried out {n} rescues from flooded cars.",
            "Sandbags were being handed out at the fire station on {street}.",
        ],
    },
    "transit": {
        "headlines": [
            "Train services between {place} and {place2} suspended after signal failure",
            "Commuters face delays as {place} line shuts for {n} hours",
            "Bus replacement in place after {place} rail disruption",
        ],
        "titles": ["Services resume", "Delays continue", "Engineers on site", "Refunds offered"],
        "sentences": [
            "Services were suspended at about {time} after a signal failure near {place}.",
            "The transit authority said engineers were on site but could not say when the line "
            "would reopen.",
            "About {n3} passengers use the line on a typical weekday morning.",
            "Replacement buses were running from {street}, with journeys taking up to {n2} "
            "minutes longer.",
            "Passengers with tickets dated {weekday} can use them on other routes, officials said.",
            "It is the {n}th serious disruption on the line this year.",
            "Platforms at {place} station were closed for a time because of overcrowding.",
            "The union representing signal workers said it had warned about the equipment.",
            "Refunds will be available online for anyone whose journey was delayed by more than "
            "{n2} minutes.",
            "Road traffic around the station was heavy as people switched to cars and taxis.",
        ],
    },
    "crash": {
        "headlines": [
            "{n} hurt in multi-vehicle crash on {street}",
            "{street} closed after lorry overturns near {place}",
            "Serious crash closes {street} in both directions",
        ],
        "titles": ["Road reopens", "Driver arrested", "Appeal for witnesses", "Victims named"],
        "sentences": [
            "The crash, involving {n} vehicles, happened on {street} at about {time}.",
            "{n2} people were taken to {hospital}, the ambulance service said.",
            "Police closed the road in both directions and diversions were put in place.",
            "Officers are appealing for witnesses and anyone with dashcam footage.",
            "A lorry carrying building materials overturned and shed its load across the road.",
            "Drivers were told to avoid the area while the road was cleared.",
            "A {n2}-year-old man was arrested at the scene, police said.",
            "The road is one of the busiest in {place}, carrying about {n3} vehicles a day.",
            "Residents said there had been several accidents at the junction in recent years.",
            "The state police said the investigation was at an early stage.",
        ],
    },
    "search": {
        "headlines": [
            "Search for missing hiker near {place} enters second day",
            "Rescue teams search hills above {place} for missing climber",
            "Missing {n2}-year-old last seen near {place}, police say",
        ],
        "titles": ["Search resumes", "Helicopter deployed", "Family appeal", "Hiker found"],
        "sentences": [
            "The {n2}-year-old was last seen leaving a car park near {place} on {weekday}.",
            "About {n2} volunteers joined the search at first light.",
            "A Coast Guard helicopter and drone teams were helping with the search.",
            "Police said the weather on the hills had made conditions difficult.",
            "The family thanked everyone who had come forward with information.",
            "Search teams covered about {n} square miles of moorland on the first day.",
            "Anyone who was walking in the area is asked to contact the state police.",
            "Officers said there was nothing to suggest anyone else was involved.",
            "A command post has been set up at the visitor centre on {street}.",
            "Temperatures on the summit fell to {n} degrees overnight.",
        ],
    },
    "council": {
        "headlines": [
            "{place} council approves ${n}.{n4} million budget after late-night session",
            "Council vote on {place} rates rise delayed again",
            "{place} councillors back plan to close {n} libraries",
        ],
        "titles": ["Vote passes", "Protest outside", "Amendment rejected", "Mayor responds"],
        "sentences": [
            "Councillors voted {n2} to {n} in favour of the plan after more than {n} hours of "
            "debate.",
            "The budget includes a rates rise of {n}.{n4} per cent for most households.",
            "About {n2} people protested outside the town hall on {street} before the meeting.",
            "The council said it faced a shortfall of ${n}.{n4} million next year.",
            "Opposition members said residents had not been properly consulted.",
            "Under the plan, {n} libraries would close or move into shared buildings.",
            "The council leader said the decisions were difficult but necessary.",
            "A final vote is expected at the next full council meeting on {weekday}.",
            "Union officials said about {n2} jobs could be at risk.",
            "The city council has cut its spending by a fifth since the last election.",
        ],
    },
    "water": {
        "headlines": [
            "Boil-water notice issued for {n3} households in {place}",
            "Water main burst leaves {place} homes without supply",
            "Bottled water stations open in {place} after contamination scare",
        ],
        "titles": ["Notice lifted", "Tests continue", "Supply restored", "Schools affected"],
        "sentences": [
            "The regional water authority said routine tests had found bacteria in the supply.",
            "Customers in {n} postcodes have been told to boil water before drinking it.",
            "Bottled water stations have been set up at {n} locations, including {street}.",
            "A burst main on {street} left about {n3} properties with low pressure or no water.",
            "The health department said there had been no reports of illness.",
            "Engineers expected to complete the repair by {time} on {weekday}.",
            "Restaurants and cafes in the area said they had been forced to close.",
            "The authority apologised and said affected customers would receive compensation.",
            "Further test results are expected within {n2} hours.",
            "Vulnerable customers will have water delivered to their homes, officials said.",
        ],
    },
    "strike": {
        "headlines": [
            "Nurses at {hospital} begin {n}-day strike over pay",
            "Talks to avert {place} bus strike break down",
            "Teachers in {place} vote to strike, union says",
        ],
        "titles": ["Talks resume", "Picket lines", "Offer rejected", "Strike called off"],
        "sentences": [
            "The union said {n2} per cent of members who voted backed the action.",
            "About {n3} staff are expected to take part in the walkout.",
            "Managers said emergency care would continue but planned operations would be delayed.",
            "Picket lines formed outside the main entrance on {street} from {time}.",
            "The employer said its offer of a {n}.{n4} per cent rise was fair and affordable.",
            "Talks at the conciliation service ended without agreement on {weekday}.",
            "Patients with appointments will be contacted if they need to be rescheduled.",
            "Union leaders said further dates could be announced next week.",
            "It is the first strike by the workforce in more than {n2} years.",
            "Several councillors joined the picket line to show their support.",
        ],
    },
}

GENERIC_SENTENCES = [
    "{person}, the {role}, said the situation was being monitored closely.",
    "The {agency} said it would give a further update at {time}.",
    '"We are doing everything we can," {person} told reporters at the scene.',
    "People were asked to avoid the area and follow official advice.",
    "Officials said {n} people had been affected so far.",
    "Local businesses on {street} said trade had been badly hit.",
    "Neighbours described hearing a loud noise at about {time}.",
    "{person} said residents should expect disruption for several days.",
    '"It was frightening, everyone just started running," one witness said.',
    "A hotline has been set up for anyone worried about relatives.",
    "The {agency} thanked the public for their patience.",
    "More details are expected later on {weekday}.",
    "Images shared on social media showed queues stretching along {street}.",
    "Schools in {place} said they would open as normal.",
    "The governor's office said it was in contact with local officials.",
    "Officials said it was too early to estimate the cost of the damage.",
    "Volunteers handed out food and blankets at a church hall near {street}.",
    '"This is not something we have seen here before," said {person}, the {role}.',
]
PROMISES = [
    "This is a developing story. Check back for an update.",
    "This story will be updated.",
    "More to follow.",
    "Check back for updates.",
]
WORD_SWAPS = {
    "said": "confirmed",
    "people": "residents",
    "morning": "afternoon",
    "closed": "shut",
    "expected": "likely",
    "about": "around",
    "several": "a number of",
    "area": "neighbourhood",
    "officials": "authorities",
    "later": "afterwards",
}
SITE_NAMES = {
    "wordpress": "The Valley Ledger",
    "arc": "Metro Herald",
    "localpaper": "Glenrock Gazette",
    "bbc": "National News",
    "guardian": "The Observer Daily",
    "drupal": "County Chronicle",
    "nextjs": "Pulse News",
    "redux": "Daily Current",
    "fusion": "The Sentinel",
    "spa": "Newsroom Now",
}
# Live blog headings shown as "UPDATE 9:12 a.m.: Title" (the others show the time apart).
LIVE_UPDATE_HEADINGS = ("wordpress", "arc", "localpaper", "drupal")


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'a.m.' if moment.hour < 12 else 'p.m.'}"


def _long_date(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}"


class Writer:
    """News prose from templates, with slots filled from one seeded RNG."""

    def __init__(self, rng: random.Random, topic: str) -> None:
        self.rng = rng
        self.topic = TOPICS[topic]
        self.place = rng.choice(PLACES)
        self.unused = list(self.topic["sentences"]) + list(GENERIC_SENTENCES)
        rng.shuffle(self.unused)
        self.titles = list(self.topic["titles"])

    def fill(self, template: str) -> str:
        rng = self.rng
        person, role = rng.choice(OFFICIALS)
        moment = BASE_TIME + timedelta(minutes=rng.randrange(0, 600, 5))
        values = {
            "place": self.place,
            "place2": rng.choice([p for p in PLACES if p != self.place]),
            "street": rng.choice(STREETS),
            "agency": rng.choice(AGENCIES),
            "hospital": rng.choice(HOSPITALS),
            "person": person,
            "role": role,
            "time": _clock(moment),
            "weekday": rng.choice(WEEKDAYS),
            "n": str(rng.randint(2, 14)),
            "n2": str(rng.randint(15, 90)),
            "n3": f"{rng.randint(2, 60) * 100:,}",
            "n4": str(rng.randint(1, 9)),
        }
        text = template.format(**values).replace("m..", "m.")
        return text[0].upper() + text[1:]

    def sentence(self) -> str:
        if not self.unused:
            self.unused = list(self.topic["sentences"]) + list(GENERIC_SENTENCES)
            self.rng.shuffle(self.unused)
        return self.fill(self.unused.pop())

    def paragraph(self, most: int = 2) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(1, most)))

    def headline(self) -> str:
        return self.fill(self.rng.choice(self.topic["headlines"]))

    def entry_title(self) -> str:
        if not self.titles:
            return self.headline()
        return self.titles.pop(self.rng.randrange(len(self.titles)))


# -- the article and its rounds -------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One live-blog entry."""

    key: str
    posted: datetime
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ArticleState:
    """The article as published in one round."""

    headline: str
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...] = ()
    entries: tuple[Entry, ...] = ()  # live blogs: newest first
    published: datetime = BASE_TIME
    modified: datetime = BASE_TIME
    topic: str = "fire"

    @property
    def byline(self) -> str:
        return " and ".join(self.authors)


def entry_heading(family: str, entry: Entry) -> str:
    """A live entry's heading as the family displays it."""
    if family in LIVE_UPDATE_HEADINGS:
        return f"UPDATE {_clock(entry.posted)}: {entry.title}"
    return entry.title


@dataclass
class Story:
    id: int
    kind: str  # a STORY_TYPES member
    family: str  # a FAMILIES member
    slug: str
    path: str
    seed: int
    states: list[ArticleState] = field(default_factory=list)
    round_kinds: list[str] = field(default_factory=list)  # FIRST, CHROME, REPUBLISH or an edit

    def truth(self, round_no: int) -> str:
        """The article text served in the round: headline, then paragraphs or live entries."""
        state = self.states[round_no]
        parts = [state.headline, *state.paragraphs]
        for entry in state.entries:
            parts.append(entry_heading(self.family, entry))
            parts.extend(entry.paragraphs)
        return "\n\n".join(parts)

    def render(self, round_no: int, request_no: int, port: int = 80) -> str:
        state = self.states[round_no]
        rng = random.Random(f"chrome:{self.seed}:{round_no}:{request_no}")
        now = BASE_TIME + timedelta(
            minutes=ROUND_MINUTES * round_no + 2, seconds=rng.randrange(0, 900)
        )
        chrome = Chrome(rng, now, self, port)
        return RENDERERS[self.family](self, state, chrome)

    def api(self, round_no: int, request_no: int) -> str:
        """The JSON a client-rendered page's script fetches (spa family)."""
        state = self.states[round_no]
        rng = random.Random(f"api:{self.seed}:{round_no}:{request_no}")
        now = BASE_TIME + timedelta(
            minutes=ROUND_MINUTES * round_no + 2, seconds=rng.randrange(0, 900)
        )
        chrome = Chrome(rng, now, self, 80)
        return json.dumps(_spa_payload(self, state, chrome))


def build_stories(seed: int, count: int, rounds: int) -> list[Story]:
    """`count` stories, spread evenly over the story types and, within a type, its families."""
    stories = []
    for index in range(count):
        kind = STORY_TYPES[index % len(STORY_TYPES)]
        within = index // len(STORY_TYPES)
        families = JS_FAMILIES if kind == "js" else STATIC_FAMILIES
        family = families[within % len(families)]
        stories.append(_story(index + 1, kind, family, seed * 10_007 + index, rounds))
    return stories


def round_kind(round_no: int) -> str:
    """What happens to the article in a round: odd rounds are chrome-only (every other one a
    republish), even rounds after the first carry an edit."""
    if round_no == 0:
        return FIRST
    if round_no % 2:
        return REPUBLISH if round_no % 4 == 3 else CHROME
    return "edit"


def _story(story_id: int, kind: str, family: str, seed: int, rounds: int) -> Story:
    rng = random.Random(seed)
    topic = rng.choice(sorted(TOPICS))
    writer = Writer(rng, topic)
    headline = writer.headline()
    slug = re.sub(r"[^a-z0-9]+", "-", headline.lower())[:60].strip("-")
    published = BASE_TIME - timedelta(minutes=rng.randint(5, 90))
    authors = (rng.choice(REPORTERS),)
    paragraphs: tuple[str, ...] = ()
    entries: tuple[Entry, ...] = ()
    if kind == "short":
        paragraphs = tuple(writer.paragraph() for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.7:
            paragraphs += (rng.choice(PROMISES),)
        elif len(paragraphs) < 3:
            paragraphs += (writer.paragraph(),)
    elif kind == "live":
        entries = tuple(
            _new_entry(writer, f"e{n}", published + timedelta(minutes=9 * n))
            for n in range(rng.randint(4, 9))
        )[::-1]
    else:
        paragraphs = tuple(writer.paragraph() for _ in range(rng.randint(6, 15)))
        if kind == "js":
            paragraphs = paragraphs[: rng.randint(4, 10)]
    state = ArticleState(headline, authors, paragraphs, entries, published, published, topic)
    story = Story(story_id, kind, family, slug, _path(family, story_id, slug, published), seed)
    story.states.append(state)
    story.round_kinds.append(FIRST)
    edits = list(EDITS_FOR_TYPE[kind])
    rng.shuffle(edits)
    edit_no = 0
    for round_no in range(1, rounds):
        moment = BASE_TIME + timedelta(minutes=ROUND_MINUTES * round_no)
        what = round_kind(round_no)
        if what == "edit":
            for attempt in range(len(edits)):
                name = edits[(edit_no + attempt) % len(edits)]
                edited = EDITS[name](state, writer, moment)
                if edited is not None and edited != state:
                    break
            else:  # pragma: no cover -- some edit always applies (a headline can always change)
                raise AssertionError("no edit applies")
            edit_no += attempt + 1
            state = replace(edited, modified=moment)
            what = name
        elif what == REPUBLISH:
            state = replace(state, modified=moment)
        story.states.append(state)
        story.round_kinds.append(what)
    return story


def _new_entry(writer: Writer, key: str, posted: datetime) -> Entry:
    count = writer.rng.randint(1, 3)
    return Entry(key, posted, writer.entry_title(), tuple(writer.paragraph() for _ in range(count)))


def _path(family: str, story_id: int, slug: str, published: datetime) -> str:
    day = f"{published:%Y/%m/%d}"
    return {
        "wordpress": f"/{day}/{slug}/",
        "arc": f"/news/local/{day}/{slug}/",
        "localpaper": f"/news/story.php?id={4000 + story_id}",
        "bbc": f"/news/articles/c{story_id:04d}{slug[:6].replace('-', 'x')}o",
        "guardian": f"/uk-news/{published:%Y/%b/%d}".lower() + f"/{slug}",
        "drupal": f"/news/{slug}",
        "nextjs": f"/article/{slug}-{story_id}",
        "redux": f"/stories/{story_id}/{slug}",
        "fusion": f"/{day}/{slug}-{story_id}/",
        "spa": f"/s/{slug}-{story_id}",
    }[family]


# -- edits: each returns the edited state, or None where the kind does not apply --------


def _paragraph_added(state: ArticleState, writer: Writer, moment: datetime) -> ArticleState | None:
    if state.entries:
        return None
    paragraphs = list(state.paragraphs)
    # Breaking items grow before their "check back" line; articles anywhere after the lede.
    at = (
        len(paragraphs) - 1
        if paragraphs[-1] in PROMISES
        else writer.rng.randint(1, len(paragraphs))
    )
    paragraphs.insert(at, writer.paragraph())
    return replace(state, paragraphs=tuple(paragraphs))


def _number_corrected(state: ArticleState, writer: Writer, moment: datetime) -> ArticleState | None:
    def correct(texts: tuple[str, ...]) -> tuple[str, ...] | None:
        candidates = [i for i, text in enumerate(texts) if re.search(r"\b\d+\b", text)]
        if not candidates:
            return None
        index = writer.rng.choice(candidates)
        numbers = list(re.finditer(r"\b\d+\b", texts[index]))
        match = writer.rng.choice(numbers)
        value = int(match.group()) + writer.rng.randint(1, 9)
        text = texts[index]
        return (
            *texts[:index],
            text[: match.start()] + str(value) + text[match.end() :],
            *texts[index + 1 :],
        )

    if state.entries:
        order = list(range(len(state.entries)))
        writer.rng.shuffle(order)
        for i in order:
            paragraphs = correct(state.entries[i].paragraphs)
            if paragraphs:
                entries = list(state.entries)
                entries[i] = replace(entries[i], paragraphs=paragraphs)
                return replace(state, entries=tuple(entries))
        return None
    paragraphs = correct(state.paragraphs)
    return replace(state, paragraphs=paragraphs) if paragraphs else None


def _word_edited(state: ArticleState, writer: Writer, moment: datetime) -> ArticleState | None:
    if state.entries:
        return None
    options = [
        (i, word)
        for i, text in enumerate(state.paragraphs)
        for word in WORD_SWAPS
        if re.search(rf"\b{word}\b", text)
    ]
    if not options:
        return None
    index, word = writer.rng.choice(options)
    paragraphs = list(state.paragraphs)
    paragraphs[index] = re.sub(rf"\b{word}\b", WORD_SWAPS[word], paragraphs[index], count=1)
    return replace(state, paragraphs=tuple(paragraphs))


def _paragraph_removed(
    state: ArticleState, writer: Writer, moment: datetime
) -> ArticleState | None:
    if state.entries or len(state.paragraphs) < 2:
        return None
    paragraphs = list(state.paragraphs)
    del paragraphs[writer.rng.randint(1, len(paragraphs) - 1)]
    return replace(state, paragraphs=tuple(paragraphs))


def _headline_rewritten(
    state: ArticleState, writer: Writer, moment: datetime
) -> ArticleState | None:
    for _ in range(10):
        headline = writer.headline()
        if headline != state.headline:
            return replace(state, headline=headline)
    return None


def _correction_appended(
    state: ArticleState, writer: Writer, moment: datetime
) -> ArticleState | None:
    if state.entries or any(p.startswith("Correction:") for p in state.paragraphs):
        return None
    wrong, right = writer.rng.sample(range(3, 40), 2)
    correction = writer.rng.choice(
        [
            f"Correction: An earlier version of this story said {wrong} people had been "
            f"affected. The correct figure is {right}.",
            f"Correction: An earlier version of this article misspelled the name of "
            f"{writer.rng.choice(OFFICIALS)[0]}.",
            f"Correction: This story has been amended to make clear that the {writer.fill('{agency}')} "
            "did not comment on the cause.",
        ]
    )
    return replace(state, paragraphs=(*state.paragraphs, correction))


def _byline_changed(state: ArticleState, writer: Writer, moment: datetime) -> ArticleState | None:
    others = [name for name in REPORTERS if name not in state.authors]
    if len(state.authors) == 1 and writer.rng.random() < 0.5:
        return replace(state, authors=(*state.authors, writer.rng.choice(others)))
    return replace(state, authors=(writer.rng.choice(others),))


def _live_entry_added(state: ArticleState, writer: Writer, moment: datetime) -> ArticleState | None:
    if not state.entries:
        return None
    entry = _new_entry(writer, f"e{len(state.entries)}-{moment:%H%M}", moment)
    return replace(state, entries=(entry, *state.entries))


def _live_entry_edited(
    state: ArticleState, writer: Writer, moment: datetime
) -> ArticleState | None:
    if len(state.entries) < 2:
        return None
    index = writer.rng.randint(1, len(state.entries) - 1)  # an older entry, not the newest
    entry = state.entries[index]
    paragraphs = list(entry.paragraphs)
    spot = writer.rng.randrange(len(paragraphs))
    paragraphs[spot] = paragraphs[spot] + " " + writer.sentence()
    entries = list(state.entries)
    entries[index] = replace(entry, paragraphs=tuple(paragraphs))
    return replace(state, entries=tuple(entries))


EDITS: dict[str, Callable[[ArticleState, Writer, datetime], ArticleState | None]] = {
    "paragraph-added": _paragraph_added,
    "number-corrected": _number_corrected,
    "word-edited": _word_edited,
    "paragraph-removed": _paragraph_removed,
    "headline-rewritten": _headline_rewritten,
    "correction-appended": _correction_appended,
    "byline-changed": _byline_changed,
    "live-entry-added": _live_entry_added,
    "live-entry-edited": _live_entry_edited,
}
assert set(EDITS) == set(EDIT_KINDS)

# -- chrome: what changes on every request ----------------------------------------------

_HEADLINE_POOL_RNG = random.Random(20250311)
HEADLINE_POOL = [
    Writer(_HEADLINE_POOL_RNG, topic).headline() for topic in sorted(TOPICS) for _ in range(6)
] + [
    "Five things to know before the weekend",
    "Opinion: Our town deserves better than this",
    "Quiz: How well do you know the week's news?",
    "Recipe: A one-pot supper ready in 30 minutes",
    "High school football: Results and highlights",
    "Obituaries: Remembering those we lost this week",
    "The best places to see spring flowers this year",
    "Property prices rise again, figures show",
]
NEWSLETTERS = [
    ("The Morning Briefing", "Start your day with the stories that matter, in your inbox."),
    ("Breaking News Alerts", "Be the first to know when big news breaks."),
    ("Weekend Read", "Our best journalism, every Saturday morning."),
    ("Local Politics", "What your council is doing, explained every Thursday."),
]


class Chrome:
    """Page chrome for one request: every figure and list here may differ on the next one."""

    def __init__(self, rng: random.Random, now: datetime, story: Story, port: int) -> None:
        self.rng = rng
        self.now = now
        self.story = story
        self.port = port

    def count(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def number(self, low: int, high: int) -> str:
        value = self.rng.randint(low, high)
        return f"{value / 1000:.1f}K" if value >= 10_000 else f"{value:,}"

    def ago(self, moment: datetime | None = None) -> str:
        seconds = max(60, int((self.now - (moment or self.now)).total_seconds()))
        if moment is None:
            seconds = self.rng.randint(60, 3 * 3600)
        minutes = seconds // 60
        if minutes < 60:
            return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''} ago"

    def short_ago(self, moment: datetime) -> str:
        minutes = max(1, int((self.now - moment).total_seconds()) // 60)
        return f"{minutes}m ago" if minutes < 60 else f"{minutes // 60}h ago"

    def headlines(self, k: int) -> list[tuple[str, str]]:
        picked = self.rng.sample(HEADLINE_POOL, k)
        return [
            (title, "/" + _slug(title) + f"-{self.rng.randint(1000, 9999)}") for title in picked
        ]

    def nonce(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def newsletter(self) -> tuple[str, str]:
        return self.rng.choice(NEWSLETTERS)

    def ad_id(self) -> str:
        return f"div-gpt-ad-{self.rng.randint(100000, 999999)}-{self.rng.randint(0, 9)}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower())[:50].strip("-")


def e(text: str) -> str:
    return html.escape(text, quote=True)


def _links(items: list[tuple[str, str]], item_class: str = "") -> str:
    cls = f' class="{item_class}"' if item_class else ""
    return "".join(f'<li{cls}><a href="{url}">{e(title)}</a></li>' for title, url in items)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _json_ld(data: object) -> str:
    return (
        '<script type="application/ld+json">' + json.dumps(data).replace("</", "<\\/") + "</script>"
    )


def _news_article_ld(story: Story, state: ArticleState, site: str, body: bool = False) -> dict:
    data: dict = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": state.headline,
        "datePublished": _iso(state.published),
        "dateModified": _iso(state.modified),
        "author": [{"@type": "Person", "name": name} for name in state.authors],
        "publisher": {"@type": "Organization", "name": site},
        "mainEntityOfPage": story.path,
    }
    if body:
        data["articleBody"] = "\n\n".join(state.paragraphs)
    return data


def _live_ld(story: Story, state: ArticleState, site: str) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": state.headline,
        "datePublished": _iso(state.published),
        "dateModified": _iso(state.modified),
        "coverageStartTime": _iso(state.published),
        "author": [{"@type": "Person", "name": name} for name in state.authors],
        "publisher": {"@type": "Organization", "name": site},
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "headline": entry_heading(story.family, entry),
                "datePublished": _iso(entry.posted),
                "articleBody": "\n\n".join(entry.paragraphs),
            }
            for entry in state.entries
        ],
    }


def _head(story: Story, state: ArticleState, chrome: Chrome, extra: str = "") -> str:
    site = SITE_NAMES[story.family]
    first = state.paragraphs[0] if state.paragraphs else state.entries[0].paragraphs[0]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(state.headline)} | {e(site)}</title>"
        f'<meta name="description" content="{e(first[:150])}">'
        f'<meta property="og:title" content="{e(state.headline)}">'
        f'<meta property="og:type" content="article"><meta property="og:site_name" content="{e(site)}">'
        f'<meta property="article:published_time" content="{_iso(state.published)}">'
        f'<meta property="article:modified_time" content="{_iso(state.modified)}">'
        f'<link rel="canonical" href="http://127.0.0.1:{chrome.port}{e(story.path)}">'
        '<link rel="stylesheet" href="/assets/site.css">'
        f'<script nonce="{chrome.nonce()}">window.dataLayer=window.dataLayer||[];'
        f'dataLayer.push({{"pageType":"article","contentId":"{story.id}",'
        f'"sessionId":"{chrome.nonce()}"}});</script>'
        f"{extra}</head>"
    )


def _nav(
    sections: tuple[str, ...] = ("News", "Local", "Politics", "Business", "Sport", "Weather"),
) -> str:
    return "".join(f'<li><a href="/{s.lower()}/">{s}</a></li>' for s in sections)


def _newsletter_box(chrome: Chrome, cls: str) -> str:
    name, pitch = chrome.newsletter()
    return (
        f'<div class="{cls}"><h3>Sign up for {e(name)}</h3><p>{e(pitch)}</p>'
        '<form action="/newsletters/subscribe" method="post"><input type="email" '
        'name="email" placeholder="Your email address"><button>Sign up</button></form>'
        # Subscriber counts move daily, not per request: per story, not per request.
        f'<p class="small">Join {random.Random(chrome.story.seed).randint(12, 95)},000 readers. '
        "You can unsubscribe at any time.</p></div>"
    )


def _ad(chrome: Chrome, cls: str = "ad-slot") -> str:
    return (
        f'<div class="{cls}"><span class="ad-label">Advertisement</span>'
        f'<div id="{chrome.ad_id()}" data-slot="/2231/news/article"></div></div>'
    )


# -- the families ----------------------------------------------------------------------


def _wordpress(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["wordpress"]
    ld = _json_ld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {**_news_article_ld(story, state, site), "@type": "NewsArticle"},
                {"@type": "WebSite", "name": site, "url": "/"},
            ],
        }
    )
    comments = chrome.count(0, 240)
    body: list[str] = []
    if state.entries:
        for entry in state.entries:
            body.append(f"<h3>{e(entry_heading('wordpress', entry))}</h3>")
            body.extend(f"<p>{e(p)}</p>" for p in entry.paragraphs)
            body.append("<hr>")
    else:
        related = chrome.headlines(1)[0]
        for n, paragraph in enumerate(state.paragraphs):
            body.append(f"<p>{e(paragraph)}</p>")
            if n == 1:
                body.append(
                    f'<p><strong>READ MORE:</strong> <a href="{related[1]}">{e(related[0])}</a></p>'
                )
            if n == 3:
                body.append(_ad(chrome, "code-block code-block-2"))
    if len(state.paragraphs) > 5:
        body.insert(6, _newsletter_box(chrome, "wp-block-newsletter-signup"))
    shares = chrome.number(3, 25_000)
    return (
        _head(story, state, chrome, ld) + '<body class="post-template-default single single-post">'
        f'<div id="page" class="site"><header id="masthead" class="site-header">'
        f'<p class="site-title"><a href="/">{e(site)}</a></p>'
        f'<nav id="site-navigation" class="main-navigation"><ul id="primary-menu">{_nav()}</ul></nav>'
        f'<div class="breaking-ticker">Trending: <a href="/x">{e(chrome.headlines(1)[0][0])}</a></div>'
        "</header>"
        '<div id="content" class="site-content"><div id="primary" class="content-area">'
        f'<main id="main" class="site-main"><article id="post-{story.id}" class="post-{story.id} '
        'post type-post status-publish format-standard has-post-thumbnail">'
        f'<header class="entry-header"><h1 class="entry-title">{e(state.headline)}</h1>'
        f'<div class="entry-meta"><span class="byline">By <span class="author vcard">'
        f'<a class="url fn n" href="/author/x/">{e(state.byline)}</a></span></span> '
        f'<span class="posted-on"><time class="entry-date published" datetime="{_iso(state.published)}">'
        f'{_long_date(state.published)}</time> <time class="updated" '
        f'datetime="{_iso(state.modified)}">Updated {_clock(state.modified)}</time></span> '
        f'<span class="comments-link"><a href="#comments">{comments} Comments</a></span></div>'
        "</header>"
        '<figure class="post-thumbnail"><img src="/wp-content/uploads/lead.jpg" alt="">'
        "<figcaption>The scene earlier today. (Staff photo)</figcaption></figure>"
        f'<div class="entry-content">{"".join(body)}'
        f'<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this:</h3>'
        f'<ul><li class="share-facebook"><a href="#">Facebook <span class="share-count">{shares}</span></a></li>'
        f'<li class="share-twitter"><a href="#">X</a></li><li class="share-email"><a href="#">Email</a></li></ul></div>'
        '<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline">'
        f"<em>Related</em></h3><ul>{_links(chrome.headlines(3), 'jp-relatedposts-post')}</ul></div>"
        "</div>"
        f'<footer class="entry-footer"><div class="author-info"><h2 class="author-title">About '
        f'{e(state.authors[0])}</h2><p class="author-bio">{e(state.authors[0])} covers breaking news '
        f"for {e(site)}. Follow on X: {chrome.number(200, 40_000)} followers.</p></div></footer>"
        "</article>"
        f'<div id="comments" class="comments-area"><h2 class="comments-title">{comments} thoughts '
        f"on &ldquo;{e(state.headline)}&rdquo;</h2>"
        '<div id="respond"><h3>Leave a Reply</h3><form><textarea name="comment"></textarea></form>'
        "</div></div></main></div>"
        '<aside id="secondary" class="widget-area"><section class="widget widget_search">'
        '<form role="search"><input type="search" name="s"></form></section>'
        '<section class="widget widget_top-posts"><h2 class="widget-title">Most Popular</h2>'
        f"<ul>{_links(chrome.headlines(5))}</ul></section>"
        f'<section class="widget">{_ad(chrome)}</section>'
        '<section class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2>'
        f"<ul>{_links(chrome.headlines(5))}</ul></section></aside></div>"
        f'<footer id="colophon" class="site-footer"><p>&copy; {state.published.year} {e(site)}. '
        "Proudly powered by WordPress.</p></footer></div>"
        f'<script nonce="{chrome.nonce()}">var wpData={{"ajaxurl":"/wp-admin/admin-ajax.php",'
        f'"nonce":"{chrome.nonce()}"}};</script></body></html>'
    )


def _arc_elements(state: ArticleState, chrome: Chrome) -> list[dict]:
    elements: list[dict] = []
    for n, paragraph in enumerate(state.paragraphs):
        elements.append({"_id": f"p{n}", "type": "text", "content": paragraph})
        if n == 2:
            elements.append({"_id": "ad1", "type": "custom_embed", "subtype": "ad"})
    return elements


def _arc(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["arc"]
    live = bool(state.entries)
    ld = _json_ld(_live_ld(story, state, site) if live else _news_article_ld(story, state, site))
    blocks: list[str] = []
    if live:
        for entry in state.entries:
            blocks.append(
                f'<div class="live-update" data-fusion-component="live-update-{entry.key}" '
                f'id="update-{entry.key}"><span class="live-update__time">{chrome.short_ago(entry.posted)}'
                f'</span><h3 class="live-update__headline">{e(entry_heading("arc", entry))}</h3>'
                + "".join(
                    f'<p class="c-paragraph" data-el="text">{e(p)}</p>' for p in entry.paragraphs
                )
                + "</div>"
            )
    else:
        read_more = chrome.headlines(1)[0]
        for n, paragraph in enumerate(state.paragraphs):
            blocks.append(
                f'<div data-fusion-component="paragraph-{n}"><p class="c-paragraph" '
                f'data-el="text">{e(paragraph)}</p></div>'
            )
            if n == 2:
                blocks.append(
                    f'<div data-fusion-component="ad-{n}" class="arc-ad">{_ad(chrome)}</div>'
                )
            if n == 4:
                blocks.append(
                    '<div data-fusion-component="interstitial-link" class="interstitial-link">'
                    f'<p><b>Read more:</b> <a href="{read_more[1]}">{e(read_more[0])}</a></p></div>'
                )
    global_content = {
        "_id": f"ARC{story.id:06d}",
        "type": "story",
        "headlines": {"basic": state.headline},
        "credits": {"by": [{"name": name, "type": "author"} for name in state.authors]},
        "display_date": _iso(state.modified),
        "first_publish_date": _iso(state.published),
        "content_elements": _arc_elements(state, chrome) if not live else [],
        "taxonomy": {"sections": [{"name": "Local", "_id": "/news/local"}]},
    }
    return (
        _head(story, state, chrome, ld) + '<body><div id="fusion-app" class="layout-section">'
        f'<header class="site-header" data-fusion-component="nav"><a class="logo" href="/">{e(site)}</a>'
        f"<nav><ul>{_nav()}</ul></nav>"
        '<a class="subscribe-btn" href="/subscribe/">Subscribe</a>'
        '<a class="login" href="/account/login/">Sign In</a></header>'
        f'<div class="alert-bar" data-fusion-component="alert-bar">Latest: '
        f'<a href="/x">{e(chrome.headlines(1)[0][0])}</a></div>'
        '<main class="article-layout"><div class="article-header" '
        'data-fusion-component="headline"><div class="overline"><a href="/news/local/">Local News</a>'
        f'</div><h1 class="headline">{e(state.headline)}</h1></div>'
        f'<div class="byline-wrap" data-fusion-component="byline"><span class="byline">By '
        + ", ".join(f'<a href="/people/x/">{e(name)}</a>' for name in state.authors)
        + f'</span><time class="date" datetime="{_iso(state.modified)}">Updated '
        f"{_long_date(state.modified)} at {_clock(state.modified)}</time>"
        f'<span class="timestamp-ago">{chrome.ago()}</span></div>'
        f'<div class="share-bar" data-fusion-component="share-bar"><button>Share</button>'
        f'<span class="comment-count">{chrome.count(0, 900)}</span></div>'
        f'<article class="article-body default__ArticleBody" data-testid="article-body">{"".join(blocks)}</article>'
        + _newsletter_box(chrome, "newsletter-signup")
        + '<aside class="right-rail"><div class="most-read" data-fusion-component="most-read">'
        f"<h2>Most Read</h2><ol>{_links(chrome.headlines(5))}</ol></div>{_ad(chrome)}</aside>"
        "</main>"
        '<footer class="site-footer"><p>Copyright Metro Herald. All rights reserved.</p></footer>'
        '</div><script id="fusion-metadata" type="application/javascript">'
        f'window.Fusion=window.Fusion||{{}};Fusion.arcSite="metro";Fusion.deployment="{chrome.count(500, 520)}";'
        f"Fusion.globalContent={json.dumps(global_content)};"
        'Fusion.globalContentConfig={"source":"content-api","query":{"website_url":'
        f'"{story.path}"}}}};Fusion.lastModified={int(chrome.now.timestamp() * 1000)};'
        "</script></body></html>"
    )


def _localpaper(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["localpaper"]
    if state.entries:
        parts = []
        for entry in state.entries:
            parts.append(
                f"<h3>{e(entry_heading('localpaper', entry))}</h3>"
                + "<br><br>".join(e(p) for p in entry.paragraphs)
            )
        story_body = "<br><br>".join(parts)
    else:
        story_body = "<br><br>".join(e(p) for p in state.paragraphs)
    nav = "".join(
        f'<tr><td class="navlink"><a href="/news/section.php?s={s.lower()}">{s}</a></td></tr>'
        for s in (
            "Home",
            "News",
            "Sports",
            "Obituaries",
            "Classifieds",
            "Police Blotter",
            "Contact Us",
        )
    )
    return (
        f"<html><head><title>{e(site)} - {e(state.headline)}</title>"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<link rel="stylesheet" href="/styles.css"></head>'
        '<body bgcolor="#FFFFFF" leftmargin="0" topmargin="0">'
        '<table width="100%" border="0" cellpadding="0" cellspacing="0"><tr>'
        f'<td colspan="3" class="masthead"><img src="/images/masthead.gif" alt="{e(site)}"><br>'
        f'<font size="1">{_long_date(chrome.now)} &middot; Serving Glenrock since 1887</font></td></tr>'
        '<tr><td width="160" valign="top" bgcolor="#EEEEEE">'
        f'<table width="100%" cellpadding="4">{nav}</table>'
        f'<br><table width="100%" cellpadding="4"><tr><td class="weather"><b>Weather</b><br>'
        f"Now: {chrome.count(28, 61)}&deg;F<br>Wind {chrome.count(2, 25)} mph</td></tr></table>"
        '</td><td width="10">&nbsp;</td><td valign="top">'
        f'<table width="100%" cellpadding="6"><tr><td class="storybody">'
        f'<font face="Georgia" size="5"><b>{e(state.headline)}</b></font><br>'
        f'<font size="2"><i>By {e(state.byline)}, Staff Writer</i></font><br>'
        f'<font size="1" color="#666666">Posted: {_long_date(state.published)} '
        f"{_clock(state.published)} | Last updated: {_clock(state.modified)} | "
        f"Hits: {chrome.count(120, 9_000)}</font><br><br>"
        f'<font face="Georgia" size="3">{story_body}</font><br><br>'
        f'<font size="2"><a href="/news/email.php?id={story.id}">E-mail this story</a> | '
        f'<a href="/news/print.php?id={story.id}">Printer-friendly version</a> | '
        f"Comments ({chrome.count(0, 60)})</font>"
        "</td></tr></table>"
        f'<table width="100%" cellpadding="4"><tr><td><center><font size="1">ADVERTISEMENT</font>'
        f'<br><a href="/ads/click.php?id={chrome.count(100, 999)}"><img src="/ads/banner'
        f'{chrome.count(1, 9)}.gif" width="468" height="60" alt="Local business"></a></center></td></tr>'
        f"<tr><td><b>Other headlines</b><br>"
        + "<br>".join(f'<a href="{url}">{e(title)}</a>' for title, url in chrome.headlines(4))
        + "</td></tr></table></td></tr>"
        f'<tr><td colspan="3" align="center"><font size="1">&copy; {state.published.year} '
        f"{e(site)}. All rights reserved. You are visitor number {chrome.count(100_000, 999_999)}."
        "</font></td></tr></table></body></html>"
    )


def _bbc(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["bbc"]
    live = bool(state.entries)
    ld = _json_ld(_live_ld(story, state, site) if live else _news_article_ld(story, state, site))
    blocks = []
    if live:
        posts = []
        for entry in state.entries:
            posts.append(
                f'<li class="lx-stream__post-container"><article class="lx-stream-post" '
                f'id="post_{entry.key}"><header class="lx-stream-post__header">'
                f'<span class="qa-post-auto-meta">{_clock(entry.posted)}</span> '
                f'<span class="lx-stream-post__meta-time">{chrome.short_ago(entry.posted)}</span>'
                f'<h3 class="lx-stream-post__header-title"><span class="lx-stream-post__header-text">'
                f"{e(entry.title)}</span></h3></header>"
                '<div class="lx-stream-post-body">'
                + "".join(f"<p>{e(p)}</p>" for p in entry.paragraphs)
                + '</div><footer class="lx-stream-post__footer"><button class="lx-share-tools">'
                "Share</button></footer></article></li>"
            )
        blocks.append(
            f'<div data-component="live-stream"><ol class="lx-stream__feed">{"".join(posts)}</ol></div>'
        )
    else:
        for n, paragraph in enumerate(state.paragraphs):
            blocks.append(
                f'<div data-component="text-block" class="ssrcss-7uxr49-RichTextContainer">'
                f'<p class="ssrcss-1q0x1qg-Paragraph">{e(paragraph)}</p></div>'
            )
            if n == 2 and len(state.paragraphs) > 4:
                blocks.append(
                    '<div data-component="image-block"><figure><img src="/img/2.jpg" alt="">'
                    "<figcaption>Emergency services at the scene</figcaption></figure></div>"
                )
        topics = ["Fire and rescue", "Weather", "Transport", "Local government"]
        blocks.append(
            '<div data-component="links-block"><h2>Related topics</h2><ul>'
            + "".join(f'<li><a href="/news/topics/x{i}">{t}</a></li>' for i, t in enumerate(topics))
            + "</ul></div>"
        )
        blocks.append(
            '<div data-component="links-block"><h2>More on this story</h2><ul>'
            + _links(chrome.headlines(2))
            + "</ul></div>"
        )
    return (
        _head(story, state, chrome, ld)
        + '<body><div id="__app"><header data-testid="header"><a href="/">National News</a>'
        f"<nav><ul>{_nav()}</ul></nav></header>"
        '<div id="main-wrapper"><main id="main-content" role="main"><article>'
        f'<header><h1 id="main-heading" class="ssrcss-15xko80-StyledHeading">{e(state.headline)}</h1>'
        f"{'<span class=lx-live-badge>LIVE</span>' if live else ''}</header>"
        f'<div data-component="byline-block"><time data-testid="timestamp" datetime="{_iso(state.modified)}">'
        f"{chrome.ago(state.modified)}</time><div><span>By {e(state.byline)}</span>"
        '<span class="role">Local news reporter</span></div></div>'
        '<div data-component="share-tools"><button>Share</button><button>Save</button></div>'
        + "".join(blocks)
        + "</article>"
        '<aside data-component="most-read"><h2>Most read</h2><ol>'
        + _links(chrome.headlines(10))
        + "</ol></aside></main></div>"
        "<footer><p>Copyright National News. We are not responsible for the content of external "
        "sites.</p></footer></div>"
        f'<script>window.__PWA_CONFIG__={{"session":"{chrome.nonce()}"}};</script></body></html>'
    )


def _guardian(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["guardian"]
    live = bool(state.entries)
    ld = _json_ld(_live_ld(story, state, site) if live else _news_article_ld(story, state, site))
    if live:
        key_events = "".join(
            f'<li><a href="#block-{entry.key}"><time>{chrome.short_ago(entry.posted)}</time> '
            f"<span>{e(entry.title)}</span></a></li>"
            for entry in state.entries[:4]
        )
        blocks = "".join(
            f'<article id="block-{entry.key}" class="block"><header class="block-header">'
            f'<p class="block-time published-time"><a href="?page=with:block-{entry.key}">'
            f'<time datetime="{_iso(entry.posted)}">{chrome.short_ago(entry.posted)}</time></a> '
            f'<span class="block-time__absolute">{entry.posted:%H.%M} GMT</span></p>'
            f'<h2 class="block-title">{e(entry.title)}</h2></header>'
            '<div class="block-elements">'
            + "".join(f"<p>{e(p)}</p>" for p in entry.paragraphs)
            + '</div><footer class="block-footer"><span class="block-share">Share</span>'
            f'<span class="updated">Updated at {entry.posted:%H.%M} GMT</span></footer></article>'
            for entry in state.entries
        )
        body = (
            '<div class="keyevents"><h2>Key events</h2><ul>'
            + key_events
            + "</ul><button>Show key events only</button></div>"
            f'<div id="liveblog-body" class="js-liveblog-body">{blocks}</div>'
        )
    else:
        paragraphs = []
        for n, paragraph in enumerate(state.paragraphs):
            paragraphs.append(f'<p class="dcr-s23rjr">{e(paragraph)}</p>')
            if n == 3:
                paragraphs.append(
                    '<aside class="ad-slot-container"><div class="ad-slot--inline">'
                    f'<p class="ad-slot__label">Advertisement</p><div id="{chrome.ad_id()}"></div></div></aside>'
                )
        body = (
            '<div id="maincontent"><div class="article-body-commercial-selector article-body-viewer-selector dcr-1jl528t">'
            + "".join(paragraphs)
            + "</div></div>"
        )
    epic = (
        '<div class="contributions__epic"><h2>Before you move on&hellip;</h2><p>'
        f"{chrome.number(1_000, 900_000)} readers supported our journalism this year. "
        'Will you join them?</p><a href="/contribute">Support us</a></div>'
    )
    return (
        _head(story, state, chrome, ld)
        + '<body><a class="skip" href="#maincontent">Skip to main content</a>'
        f'<header><nav data-component="nav2"><a href="/">{e(site)}</a><ul>{_nav()}</ul></nav></header>'
        '<main data-layout="StandardLayout"><div class="dcr-article">'
        f'<div data-gu-name="headline"><h1 class="dcr-125vfar">{"<span>Live</span> " if live else ""}'
        f"{e(state.headline)}</h1></div>"
        f'<div data-gu-name="meta"><address aria-label="Contributor info"><a rel="author" '
        f'href="/profile/x">{e(state.byline)}</a></address>'
        f"<details><summary>{_long_date(state.published)}</summary>Last modified on "
        f"{state.modified:%a %d %b %Y %H.%M} GMT</details>"
        f'<div class="meta__numbers"><span class="share-count">{chrome.number(0, 30_000)}</span> '
        f'<span class="comment-count">{chrome.count(0, 3_000)}</span></div></div>'
        f'<div data-gu-name="body">{body}</div>'
        + epic
        + '<section data-component="more-on-this-story"><h2>More on this story</h2><ul>'
        + _links(chrome.headlines(4))
        + '</ul></section><section data-component="most-viewed"><h2>Most viewed</h2><ol>'
        + _links(chrome.headlines(10))
        + "</ol></section></div></main>"
        f"<footer><p>&copy; {state.published.year} {e(site)}</p></footer></body></html>"
    )


def _drupal(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["drupal"]
    if state.entries:
        inner = "".join(
            f'<div class="paragraph paragraph--type--live-update"><h3>{e(entry_heading("drupal", entry))}</h3>'
            + "".join(f"<p>{e(p)}</p>" for p in entry.paragraphs)
            + "</div>"
            for entry in state.entries
        )
    else:
        pieces = []
        for n, paragraph in enumerate(state.paragraphs):
            pieces.append(f"<p>{e(paragraph)}</p>")
            if n == 2 and len(state.paragraphs) > 3:
                title, url = chrome.headlines(1)[0]
                pieces.append(
                    '<div class="embedded-entity related-inline"><span class="label">Related:'
                    f'</span> <a href="{url}">{e(title)}</a></div>'
                )
        inner = "".join(pieces)
    return (
        _head(story, state, chrome)
        + '<body class="path-node page-node-type-article"><div class="dialog-off-canvas-main-canvas">'
        f'<header role="banner"><div class="region region-header"><a href="/" rel="home">{e(site)}</a></div>'
        f'<nav role="navigation" class="menu--main"><ul class="menu">{_nav()}</ul></nav></header>'
        '<div class="region region-highlighted"><div data-drupal-messages-fallback class="hidden"></div></div>'
        '<main role="main"><div class="layout-content">'
        f'<article role="article" about="/node/{story.id}" class="node node--type-article node--view-mode-full">'
        f'<h1 class="page-title"><span class="field field--name-title">{e(state.headline)}</span></h1>'
        f'<div class="node__meta"><span class="field--name-uid">{e(state.byline)}</span> '
        f'<span class="field--name-created">{state.published:%a, %m/%d/%Y - %H:%M}</span> '
        f'<span class="statistics-counter">{chrome.count(50, 20_000)} reads</span></div>'
        '<div class="node__content">'
        f'<div class="clearfix text-formatted field field--name-body field--type-text-with-summary field--label-hidden field__item">{inner}</div>'
        '<div class="field field--name-field-tags"><div class="field__label">Tags</div>'
        '<div class="field__items"><div class="field__item"><a href="/taxonomy/term/3">Breaking</a></div></div></div>'
        '<section class="comment-section"><h2>Comments</h2>'
        f"<p>{chrome.count(0, 80)} comments. Log in or register to post comments.</p></section>"
        "</div></article></div>"
        '<aside class="layout-sidebar-second" role="complementary">'
        '<div class="block block-views block-views-blockpopular-block-1"><h2>Trending now</h2>'
        f'<div class="view-content"><ul>{_links(chrome.headlines(5))}</ul></div></div>'
        f'<div class="block block-ad">{_ad(chrome)}</div>'
        f'<div class="block block-newsletter">{_newsletter_box(chrome, "simplenews-subscriber-form")}</div>'
        "</aside></main>"
        f'<footer role="contentinfo"><p>{e(site)} &middot; Powered by Drupal</p></footer></div>'
        f'<script type="application/json" data-drupal-selector="drupal-settings-json">'
        f'{{"path":{{"currentPath":"node\\/{story.id}"}},"ajaxPageState":{{"libraries":"core","theme":"chronicle"}},'
        f'"csrf":"{chrome.nonce()}"}}</script></body></html>'
    )


def _shell(story: Story, state: ArticleState, chrome: Chrome, mount: str, scripts: str) -> str:
    """An app shell: site chrome rendered on the server, the article left to a script."""
    site = SITE_NAMES[story.family]
    bundle = f"/_app/static/chunks/main-{story.family}-{chrome.count(1, 3)}a7f.js"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(state.headline)} - {e(site)}</title>"
        f'<meta property="og:title" content="{e(state.headline)}">'
        f'<meta property="og:site_name" content="{e(site)}">'
        f'<link rel="preload" href="{bundle}" as="script"></head><body>'
        f'<header class="app-header"><a href="/" class="logo">{e(site)}</a><nav><ul>{_nav()}</ul></nav>'
        '<button class="menu-toggle">Menu</button><a href="/subscribe">Subscribe</a></header>'
        f"{mount}"
        f'<footer class="app-footer"><p>&copy; {state.published.year} {e(site)}</p>'
        '<ul><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms</a></li></ul></footer>'
        f"{scripts}"
        f'<script src="{bundle}" defer></script></body></html>'
    )


def _next_blocks(state: ArticleState, chrome: Chrome) -> list[dict]:
    blocks: list[dict] = []
    for n, paragraph in enumerate(state.paragraphs):
        blocks.append({"type": "paragraph", "content": paragraph})
        if n == 1:
            blocks.append({"type": "ad", "slot": chrome.ad_id()})
        if n == 3:
            title, url = chrome.headlines(1)[0]
            blocks.append({"type": "related-link", "title": title, "url": url})
    return blocks


def _nextjs(story: Story, state: ArticleState, chrome: Chrome) -> str:
    data = {
        "props": {
            "pageProps": {
                "article": {
                    "id": f"a{story.id}",
                    "title": state.headline,
                    "slug": story.slug,
                    "authors": [
                        {"name": name, "followers": chrome.count(10, 90_000)}
                        for name in state.authors
                    ],
                    "publishedAt": _iso(state.published),
                    "updatedAt": _iso(state.modified),
                    "body": _next_blocks(state, chrome),
                    "stats": {
                        "views": chrome.count(100, 500_000),
                        "comments": chrome.count(0, 900),
                    },
                },
                "trending": [{"title": t, "href": u} for t, u in chrome.headlines(5)],
                "adConfig": {"targeting": {"pv": chrome.nonce()}},
            },
            "__N_SSP": True,
        },
        "page": "/article/[slug]",
        "query": {"slug": story.slug},
        "buildId": "Xk2v9pQm4hRt",
        "isFallback": False,
        "gssp": True,
        "scriptLoader": [],
    }
    mount = (
        '<div id="__next"><main class="article-page"><div class="skeleton skeleton-headline"></div>'
        '<div class="skeleton skeleton-text"></div><div class="skeleton skeleton-text"></div></main></div>'
    )
    scripts = (
        '<script id="__NEXT_DATA__" type="application/json">'
        + json.dumps(data).replace("</", "<\\/")
        + "</script>"
    )
    return _shell(story, state, chrome, mount, scripts)


def _redux(story: Story, state: ArticleState, chrome: Chrome) -> str:
    content = "".join(f"<p>{e(p)}</p>" for p in state.paragraphs)
    data = {
        "router": {"location": {"pathname": story.path}},
        "session": {"csrf": chrome.nonce(), "loggedIn": False},
        "article": {
            "status": "loaded",
            "data": {
                "id": story.id,
                "title": state.headline,
                "byline": "By " + state.byline,
                "published": _iso(state.published),
                "modified": _iso(state.modified),
                "content": content,
                "commentCount": chrome.count(0, 400),
            },
        },
        "mostRead": [{"title": t, "url": u} for t, u in chrome.headlines(6)],
        "ads": {"slots": [chrome.ad_id(), chrome.ad_id()]},
    }
    mount = '<div id="root"><div class="loading-spinner" aria-label="Loading"></div></div>'
    scripts = (
        f'<script nonce="{chrome.nonce()}">window.__INITIAL_STATE__ = '
        + json.dumps(data).replace("</", "<\\/")
        + ';window.__ENV__={"region":"us"};</script>'
    )
    return _shell(story, state, chrome, mount, scripts)


def _fusion(story: Story, state: ArticleState, chrome: Chrome) -> str:
    content = {
        "_id": f"FUS{story.id:06d}",
        "type": "story",
        "headlines": {"basic": state.headline, "web": state.headline},
        "credits": {"by": [{"name": name, "type": "author"} for name in state.authors]},
        "display_date": _iso(state.modified),
        "content_elements": _arc_elements(state, chrome),
        "related_content": {
            "basic": [
                {"headlines": {"basic": t}, "canonical_url": u} for t, u in chrome.headlines(3)
            ]
        },
    }
    mount = '<div id="fusion-app"></div>'
    content_json = json.dumps(content).replace("</", "<\\/")
    scripts = (
        '<script id="fusion-metadata" type="application/javascript">window.Fusion=window.Fusion||{};'
        'Fusion.arcSite="sentinel";Fusion.outputType="default";'
        f"Fusion.globalContent={content_json};"
        f'Fusion.globalContentConfig={{"source":"content-api","query":{{"_id":"FUS{story.id:06d}"}}}};'
        f'Fusion.contentCache={{"site-navigation":{{"ts":{int(chrome.now.timestamp())}}}}};'
        f"Fusion.lastModified={int(chrome.now.timestamp() * 1000)};</script>"
    )
    return _shell(story, state, chrome, mount, scripts)


SPA_BUNDLE = r"""(function () {
  var root = document.getElementById("root");
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function links(items) {
    return items.map(function (i) { return '<li><a href="' + i.url + '">' + esc(i.title) + "</a></li>"; }).join("");
  }
  fetch("/api/v2/stories/" + root.getAttribute("data-story") + "?platform=web", {credentials: "same-origin"})
    .then(function (r) { return r.json(); })
    .then(function (d) {
      var s = d.story, h = '<div class="app"><main class="story-page"><article class="story">';
      h += '<h1 class="story__headline">' + esc(s.headline) + "</h1>";
      h += '<div class="story__meta"><span class="story__byline">By ' + esc(s.byline) + "</span> ";
      h += '<time datetime="' + s.updated + '">Updated ' + esc(d.updatedAgo) + "</time> ";
      h += '<span class="story__views">' + d.views + " views</span></div>";
      h += '<div class="story__share">Share <span>' + d.shares + "</span></div>";
      h += '<div class="story__body">';
      s.blocks.forEach(function (b) {
        if (b.type === "paragraph") { h += '<p class="story__paragraph">' + esc(b.text) + "</p>"; }
        else if (b.type === "ad") { h += '<div class="ad"><span>Advertisement</span></div>'; }
        else if (b.type === "readmore") { h += '<p class="readmore"><a href="' + b.url + '">Read more: ' + esc(b.title) + "</a></p>"; }
      });
      h += '</div><div class="author-card"><b>' + esc(s.byline) + "</b> " + d.followers + " followers</div>";
      h += '</article><aside class="popular"><h2>Most popular</h2><ol>' + links(d.popular) + "</ol></aside></main></div>";
      root.innerHTML = h;
      document.title = s.headline + " | Newsroom Now";
    })
    .catch(function () { root.innerHTML = '<p class="error">Something went wrong.</p>'; });
})();
"""


def _spa(story: Story, state: ArticleState, chrome: Chrome) -> str:
    site = SITE_NAMES["spa"]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{e(site)}</title><link rel="icon" href="/favicon.ico">'
        '<link href="/static/css/main.4f1c2a.css" rel="stylesheet"></head><body>'
        "<noscript>You need to enable JavaScript to run this app.</noscript>"
        f'<div id="root" data-story="{story.id}"></div>'
        f'<script nonce="{chrome.nonce()}">window.__CONFIG__={{"apiBase":"/api/v2","release":"2025.03.{chrome.count(1, 9)}"}};</script>'
        '<script src="/static/js/main.8c3e1b.js"></script></body></html>'
    )


def _spa_payload(story: Story, state: ArticleState, chrome: Chrome) -> dict:
    blocks: list[dict] = []
    for n, paragraph in enumerate(state.paragraphs):
        blocks.append({"type": "paragraph", "text": paragraph})
        if n == 1:
            blocks.append({"type": "ad"})
        if n == 3:
            title, url = chrome.headlines(1)[0]
            blocks.append({"type": "readmore", "title": title, "url": url})
    return {
        "story": {
            "id": story.id,
            "headline": state.headline,
            "byline": state.byline,
            "published": _iso(state.published),
            "updated": _iso(state.modified),
            "blocks": blocks,
        },
        "updatedAgo": chrome.ago(),
        "views": chrome.number(100, 400_000),
        "shares": chrome.number(0, 9_000),
        "followers": chrome.number(50, 80_000),
        "popular": [{"title": t, "url": u} for t, u in chrome.headlines(5)],
    }


RENDERERS: dict[str, Callable[[Story, ArticleState, Chrome], str]] = {
    "wordpress": _wordpress,
    "arc": _arc,
    "localpaper": _localpaper,
    "bbc": _bbc,
    "guardian": _guardian,
    "drupal": _drupal,
    "nextjs": _nextjs,
    "redux": _redux,
    "fusion": _fusion,
    "spa": _spa,
}
assert set(RENDERERS) == set(FAMILIES)


# -- the server ------------------------------------------------------------------------


class DevelopingSite:
    """Serves the stories' pages at their current round from 127.0.0.1, in a thread."""

    def __init__(self, stories: list[Story]) -> None:
        self.stories = stories
        self.round = 0
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._by_path = {story.path: story for story in stories}
        self._by_id = {str(story.id): story for story in stories}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, kind, body = site.respond(self.path)
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "max-age=0, no-cache")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, story: Story) -> str:
        return f"http://127.0.0.1:{self.port}{story.path}"

    def respond(self, path: str) -> tuple[int, str, str]:
        with self._lock:
            self.requests[path] += 1
            request_no = self.requests[path]
        page = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nDisallow: /wp-admin/\n"
        if path.startswith("/static/js/main."):
            return 200, "application/javascript", SPA_BUNDLE
        if path.startswith("/api/v2/stories/"):
            story = self._by_id.get(path.split("/")[4].split("?")[0])
            if story is not None:
                return 200, "application/json", story.api(self.round, request_no)
        story = self._by_path.get(path)
        if story is not None:
            return 200, page, story.render(self.round, request_no, self.port)
        return 404, page, "<html><body><h1>Page not found</h1></body></html>"

    def __enter__(self) -> DevelopingSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
