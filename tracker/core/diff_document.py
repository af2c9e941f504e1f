"""A diff as a standalone HTML document: one file that opens anywhere, offline, as it looks
in the web UI (`tracker diff --format side-by-side -o diff.html`, to mail or archive).

Its styles are inline (no stylesheet, font, script or image to fetch), light and dark as the
reader's system prefers; the colours are the web UI's (tracker/web/static/style.css)."""

from __future__ import annotations

import html

DOCUMENT_STYLE = """\
:root { --fg: #1d1f23; --muted: #5b616b; --bg: #fff; --line: #d9dce1; --accent: #0b57d0;
  --ins-bg: #d7f5dd; --ins-fg: #0a5c1f; --del-bg: #fde0e0; --del-fg: #8f1414; --warn: #8a5a00;
  color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e7ea; --muted: #a4a9b3; --bg: #15171a; --line: #33373d; --accent: #8ab4f8;
    --ins-bg: #113d1f; --ins-fg: #b5f0c4; --del-bg: #4a1616; --del-fg: #ffc9c9;
    --warn: #f3c969; }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
h1 { font-size: 1.6rem; line-height: 1.25; overflow-wrap: anywhere; }
.url, .meta { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
ins { background: var(--ins-bg); color: var(--ins-fg); text-decoration: underline;
  text-decoration-thickness: 1px; }
del { background: var(--del-bg); color: var(--del-fg); text-decoration: line-through; }
.diff { font-size: 1.05rem; }
.diff-inline { max-width: 46rem; }
table.diff { border-collapse: collapse; width: 100%; }
table.diff th { text-align: left; border-bottom: 2px solid var(--line); padding: .3rem .5rem; }
table.diff td { width: 50%; vertical-align: top; padding: .3rem .5rem; font-size: .98rem;
  border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.diff tr.equal td { color: var(--muted); }
.diff-note.coarse { color: var(--warn); font-style: italic; }
.diff-units section.unit { border-left: 3px solid var(--line); padding-left: .75rem;
  margin-bottom: 1rem; }
.diff-units section.unit-added { border-left-color: #2e7d32; }
.diff-units section.unit-removed { border-left-color: #c62828; }
.diff-units section.unit-equal { color: var(--muted); }
.diff-units .unit-caption { font-size: .95rem; margin: 0 0 .25rem; }
.diff-units tr.unit-head th { padding-top: .75rem; border-bottom: 1px solid var(--line); }
@media (max-width: 40rem) {
  table.diff td, table.diff tr { display: block; width: 100%; }
  table.diff tr { border-bottom: 2px solid var(--line); }
}
"""


def diff_document(body: str, *, title: str, url: str, versions: str, headline: str = "") -> str:
    """A complete HTML document around a rendered diff `body` (already escaped HTML, from
    tracker.core.diffing): the story's `title`, its `url` as a link, what is compared
    (`versions`, e.g. "version 1 → version 5"), and `headline`, the rendered headline diff
    when the headline changed. `title`, `url` and `versions` are escaped here."""
    heading = headline or html.escape(title)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing in the file may load anything: it is read offline, and page text is hostile.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{html.escape(title)}: {html.escape(versions)}</title>\n"
        f"<style>\n{DOCUMENT_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{heading}</h1>\n"
        f'<p class="url"><a href="{html.escape(url, quote=True)}">{html.escape(url)}</a></p>\n'
        f'<p class="meta">{html.escape(versions)}</p>\n'
        f"{body}</main>\n</body>\n</html>\n"
    )
