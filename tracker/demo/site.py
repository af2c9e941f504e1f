"""A developing story that evolves like a real one, for ``tracker demo`` and the tests.

Modelled on a 2007 wire story about US–Iran talks in Baghdad that ended with "check back
for an update". Each stage is what the article says at one moment; :func:`render_page`
wraps it in page chrome (navigation, a "most read" box, comment counter, relative time,
script nonce) that changes on every request, as live pages do. Only the article stages
should ever create versions.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    headline: str
    paragraphs: tuple[str, ...]
    expected_kinds: frozenset[str]  # what the tracker should call the change into this stage


_INTRO = (
    "The United States and Iran began their second round of talks on Iraq security Tuesday. "
    "Despite excitement sparked by the rarity of the encounter, any air of cooperation has "
    "apparently soured, with early word from Baghdad reporting that the Iranians have not "
    "responded favorably to the delivery of the US message.",
    "Iraqi Prime Minister Nuri al-Maliki brought together US Ambassador Ryan Crocker with his "
    "Iranian counterpart, Hassan Kadhemi Qomi, on Tuesday for the second diplomatic encounter "
    "since the two countries severed ties in 1979. After the first exchange back in May, the "
    "countries agreed that a second meeting would be arranged.",
    "US State Department spokesman Sean McCormack said Monday that the main purpose of the "
    "meeting would be to underscore the public message that Iran should stop meddling in Iraq.",
    "Iran has always been accused of providing support to Iraqi insurgents and militias, so it "
    "is no real surprise the Iranian delegation had a negative reaction to the message "
    "Ambassador Crocker delivered.",
    "According to the Associated Press, an Iraqi official who was present at the meeting said "
    "Crocker and Qomi were involved in a heated exchange early in the talks, which lasted four "
    "hours.",
    "Qomi dismissed the allegations, saying the Americans had no proof, the official said.",
)
_PROMISE = (
    "Ambassador Ryan Crocker is scheduled to hold a press conference later today to discuss "
    "the meeting, so check back for an update."
)
_PRESS_CONFERENCE = (
    'At a press conference after the meeting, Crocker said the talks had been "direct and '
    'serious" and that the two sides agreed to set up a security subcommittee on Iraq.',
    "Crocker said the Iranian side had rejected the charges but had not offered evidence to "
    'counter them. "We will judge Iran by its actions on the ground," he said.',
    "Qomi told Iranian state television that Tehran was ready to help train Iraqi forces and "
    'called the meeting a "positive step".',
)

STAGES: tuple[Stage, ...] = (
    Stage(
        "promise",
        'US-Iran Have "Heated Exchange"',
        (*_INTRO, _PROMISE),
        frozenset({"first"}),
    ),
    Stage(
        "press conference",
        'US-Iran Have "Heated Exchange"',
        (*_INTRO, *_PRESS_CONFERENCE),
        frozenset({"paragraphs_added", "paragraphs_removed"}),
    ),
    Stage(
        "headline rewritten",
        'Crocker: Talks With Iran "Direct and Serious"',
        (*_INTRO, *_PRESS_CONFERENCE),
        frozenset({"headline"}),
    ),
    Stage(
        "sentence removed",
        'Crocker: Talks With Iran "Direct and Serious"',
        (*_INTRO[:3], *_INTRO[4:], *_PRESS_CONFERENCE),
        frozenset({"paragraphs_removed"}),
    ),
    Stage(
        "figure corrected",
        'Crocker: Talks With Iran "Direct and Serious"',
        (*_INTRO[:3], _INTRO[4].replace("four", "seven"), _INTRO[5], *_PRESS_CONFERENCE),
        frozenset({"text_edited"}),
    ),
)

_MOST_READ = (
    "Petraeus to brief Congress in September",
    "Basra handover date set",
    "Oil law stalls in parliament",
    "Anbar tribes join fight against al-Qaeda",
    "Green Zone shelling wounds three",
    "Kurdish region signs exploration deals",
)


def render_page(stage: Stage, chrome_round: int = 0) -> str:
    """The full HTML page of ``stage``; ``chrome_round`` varies everything but the article."""
    rotation = chrome_round % len(_MOST_READ)
    most_read = _MOST_READ[rotation:] + _MOST_READ[:rotation]
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in stage.paragraphs)
    items = "\n".join(
        f'        <li><a href="/story/{i}">{html.escape(t)}</a></li>'
        for i, t in enumerate(most_read)
    )
    headline = html.escape(stage.headline)
    minutes = 3 + chrome_round
    comments = 41 + chrome_round * 7
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{headline} | IraqSlogger</title>
  <meta property="og:title" content="{headline}">
  <meta property="og:site_name" content="IraqSlogger">
  <meta name="author" content="Slogger Staff">
  <meta property="article:published_time" content="2007-07-24T10:44:00-04:00">
  <link rel="canonical" href="https://example.org/iraqslogger/us-iran-heated-exchange">
  <script nonce="n{chrome_round:08x}">window.dataLayer=[{{"pv":{chrome_round}}}];</script>
</head>
<body>
  <header>
    <nav><a href="/">Home</a> <a href="/buzz">IraqSide:Buzz</a> <a href="/iran">Iran Factor</a>
      <a href="/tips">Tips, questions, and suggestions</a> <a href="/signup">Sign up for emails</a>
    </nav>
  </header>
  <main>
    <article>
      <h1>{headline}</h1>
      <p class="byline">By Slogger Staff</p>
      <p class="updated">Updated {minutes} minutes ago</p>
      <time datetime="2007-07-24T10:44:00-04:00">07/24/2007 10:44 AM ET</time>
      <figure><figcaption>Baghdad, IRAQ: Iraq's Prime Minister Nuri Al-Maliki (3rdL) attending
        the US-Iranian talks in Baghdad. AFP/Getty</figcaption></figure>
{body}
      <p class="comments"><a href="#comments">{comments} comments</a></p>
    </article>
  </main>
  <aside>
    <h2>Most read</h2>
    <ol>
{items}
    </ol>
  </aside>
  <footer>&copy; 2007 IraqSlogger · <a href="/about">About</a></footer>
</body>
</html>
"""
