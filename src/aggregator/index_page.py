"""The human page at ``/``: channels with subscribe links, the latest articles.

Pure: values in, one self-contained HTML document out (no external assets). Channels are
also announced with ``<link rel="alternate">`` so browsers and readers discover them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

from aggregator.model import Channel, Source, SourceState, StoredArticle

_STYLE = (
    # keep-all: Korean breaks between words, as Korean is set, not mid-word.
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:auto;padding:1rem;"
    "color:#222;word-break:keep-all;overflow-wrap:anywhere}"
    "a{color:#0645ad}h1{font-size:1.6rem}li{margin:.4rem 0}"
    ".meta{color:#666;font-size:.85rem}table{border-collapse:collapse;width:100%}"
    "td,th{text-align:left;padding:.3rem;border-bottom:1px solid #ddd;vertical-align:top}"
    ".ok{color:#17663a}.bad{color:#a31515}"
)
#: (extension, label, media type) of each channel's feeds, announced in the page's head.
_FEEDS = (
    ("xml", "RSS", "application/rss+xml"),
    ("atom", "Atom", "application/atom+xml"),
    ("json", "JSON Feed", "application/feed+json"),
)


def render_index(
    title: str,
    description: str,
    channels: Sequence[Channel],
    latest: Sequence[StoredArticle],
    tz: tzinfo,
    now: datetime,
    language: str = "en",
    health: Sequence[tuple[Source, SourceState]] = (),
    notice: str | None = None,
) -> bytes:
    """The index page as UTF-8 HTML; feed links are relative so the page works anywhere."""
    head_links = "".join(
        f'<link rel="alternate" type="{media}" title="{escape(channel.title)} ({label})" '
        f'href="feeds/{escape(channel.id)}.{ext}">'
        for channel in channels
        for ext, label, media in _FEEDS
    )
    channel_items = "".join(
        f"<li><strong>{escape(channel.title)}</strong> "
        + " · ".join(
            f'<a href="feeds/{escape(channel.id)}.{ext}">{label}</a>' for ext, label, _ in _FEEDS
        )
        + "</li>"
        for channel in channels
    )
    article_items = "".join(_article_item(stored, tz) for stored in latest)
    health_rows = "".join(_health_row(source, state, tz) for source, state in health)
    health_table = (
        '<h2>Sources</h2><table class="health"><tr><th>source</th><th>status</th>'
        f"<th>last success</th><th>articles</th></tr>{health_rows}</table>"
        if health_rows
        else ""
    )
    return (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title>{head_links}<style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(description)}</p>"
        f"{_notice(notice)}"
        f"<h2>Channels</h2><ul>{channel_items}</ul>"
        f'<h2>Latest</h2><ul class="articles">{article_items or "<li>Nothing yet.</li>"}</ul>'
        f"{health_table}"
        f'<p class="meta">Updated {now.astimezone(tz):%Y-%m-%d %H:%M %Z} · '
        '<a href="opml.xml">OPML</a></p></body></html>\n'
    ).encode()


def _article_item(stored: StoredArticle, tz: tzinfo) -> str:
    article = stored.article
    title = escape(article.title or "(untitled)")
    link = (
        f'<a href="{escape(article.canonical_url)}">{title}</a>' if article.canonical_url else title
    )
    when = f"{article.date.astimezone(tz):%Y-%m-%d %H:%M}" if article.date else ""
    source = escape(article.source or stored.source_id)
    return f'<li>{link}<br><span class="meta">{source} · {when}</span></li>'


def _health_row(source: Source, state: SourceState, tz: tzinfo) -> str:
    if state.disabled:
        status, css = "disabled", "bad"
    elif state.last_status == "error":
        status, css = f"failing ({state.error_count})", "bad"
    elif state.last_status:
        status, css = "ok", "ok"
    else:
        status, css = "not fetched yet", ""
    when = f"{state.last_success.astimezone(tz):%Y-%m-%d %H:%M}" if state.last_success else "never"
    problem = state.disabled or public_problem(state.last_error or "")
    detail = f'<br><span class="meta">{escape(problem)}</span>' if problem else ""
    return (
        f'<tr><td>{escape(source.name)}</td><td class="{css}">{escape(status)}{detail}</td>'
        f"<td>{when}</td><td>{state.article_count}</td></tr>"
    )


#: Failures shown as they are: what they say is about the feed, not the network.
_SHOWN_WHOLE = ("HTTP ", "timed out", "more than", "body larger", "corrupt compressed", "not a ")


def public_problem(error: str) -> str:
    """A source's failure in words fit for a public page: the network's own messages
    (addresses, ports, errno) would let anyone who adds a feed map the network behind
    this machine, so they are cut to what kind of failure it was (the log has it all)."""
    if not error or error.startswith(_SHOWN_WHOLE):
        return error
    if error.startswith("could not connect: refused to connect"):
        return "refused: a private address (see fetch.allow_private)"
    head = error.split(":", 1)[0].strip()
    if head == "could not connect" or head.endswith(("Error", "Exception")):
        return "could not connect" if head == "could not connect" else "connection failed"
    return head if ":" in error else error


def _notice(notice: str | None) -> str:
    if not notice:
        return ""
    return f'<pre class="bad notice">{escape(notice)}</pre>'
