"""The stylesheet that makes a feed readable when a person opens it in a browser.

Pure: constants and one bytes function. RSS and Atom documents carry an
``<?xml-stylesheet type="text/xsl" href="../feed.xsl"?>`` processing instruction right
after their XML declaration; ``FEED_XSL`` (published as ``feed.xsl`` at the root of the
output) turns either format into a small HTML page: the channel's title and description,
how to subscribe, and each item's linked title, date, outlet and summary. Feed readers
ignore the instruction. The page needs nothing else: no script, no external style, font or
image, so it works from the static files and over HTTP alike (the ``href`` is relative:
feeds live under ``feeds/``, the stylesheet one level up).

Browsers apply it with their built-in XSLT 1.0 engine (Chromium and WebKit use libxslt,
Firefox its own); a browser without XSLT shows the XML as before. They do so only for a
document served with an XML media type they render: Chromium shows
``application/rss+xml`` and ``application/atom+xml`` as plain text and Firefox downloads
them, so a browser's request (its ``Accept`` names HTML) is answered with
``application/xml`` (``browser_media_type``) while feed readers keep the feed types.
"""

from __future__ import annotations

#: The media type of ``feed.xsl`` (one every browser takes for an XSLT stylesheet), and of
#: an RSS or Atom feed served to a browser (one it renders, applying the stylesheet).
XML_MEDIA_TYPE = "application/xml; charset=utf-8"
#: Feed media types a browser does not render as XML.
_FEED_TYPES = ("application/rss+xml", "application/atom+xml")
#: What a browser's ``Accept`` names when it navigates to a page; feed readers do not.
_PAGE_TYPES = ("text/html", "application/xhtml+xml")

#: Where the stylesheet is published, relative to the output root (a ``render_site`` key).
STYLESHEET_PATH = "feed.xsl"
#: The stylesheet's address as seen from a feed document under ``feeds/``.
STYLESHEET_HREF = "../" + STYLESHEET_PATH

_STYLE = (
    # keep-all: Korean breaks between words, as Korean is set, not mid-word.
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:auto;padding:1rem;"
    "color:#222;background:#fff;word-break:keep-all;overflow-wrap:anywhere}"
    "a{color:#0645ad}h1{font-size:1.6rem;margin:.2rem 0}"
    "h2{font-size:1.1rem;margin:0}ol{list-style:none;padding:0}"
    "li{margin:0 0 1.2rem;padding-bottom:1rem;border-bottom:1px solid #e4e4e4}"
    ".meta{color:#666;font-size:.85rem;margin:.2rem 0}.summary{margin:.3rem 0 0}"
    # The banner stays a line or two on a phone.
    ".about{background:#fff8d6;border:1px solid #eadc8f;border-radius:.4rem;"
    "padding:.3rem .6rem;margin:0 0 .5rem;font-size:.8rem;line-height:1.35}"
    "code{word-break:break-all}"
)

#: XSLT 1.0, RSS 2.0 and Atom 1.0 in, an HTML page out. The RSS ``description`` is HTML
#: by convention (ours is the escaped plain-text excerpt, or the sanitized body when there
#: is no excerpt), so it is copied unescaped (``disable-output-escaping``; Firefox ignores
#: it and shows the escaped text) and reads as the text it stands for; Atom summaries are
#: plain text and copied as text. Links come from the feed, where only absolute http(s)
#: URLs are ever published.
FEED_XSL = f"""<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:apply-templates select="rss/channel | atom:feed"/>
  </xsl:template>

  <xsl:template name="head">
    <xsl:param name="title"/>
    <head>
      <meta charset="utf-8"/>
      <meta name="viewport" content="width=device-width,initial-scale=1"/>
      <title><xsl:value-of select="$title"/> (feed)</title>
      <style>{_STYLE}</style>
    </head>
  </xsl:template>

  <xsl:template name="about">
    <xsl:param name="self"/>
    <p class="about">A web feed: to follow it, add its address to your feed reader<xsl:if
      test="$self">: <code><xsl:value-of select="$self"/></code></xsl:if>.</p>
  </xsl:template>

  <xsl:template name="title-link">
    <xsl:param name="title"/>
    <xsl:param name="href"/>
    <h2>
      <xsl:choose>
        <xsl:when test="$href"><a href="{{$href}}"><xsl:value-of select="$title"/></a></xsl:when>
        <xsl:otherwise><xsl:value-of select="$title"/></xsl:otherwise>
      </xsl:choose>
    </h2>
  </xsl:template>

  <!-- RSS 2.0 -->
  <xsl:template match="channel">
    <html lang="{{language}}">
      <xsl:call-template name="head">
        <xsl:with-param name="title" select="title"/>
      </xsl:call-template>
      <body>
        <xsl:call-template name="about">
          <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
        </xsl:call-template>
        <h1><xsl:value-of select="title"/></h1>
        <p><xsl:value-of select="description"/></p>
        <p class="meta"><a href="{{link}}">Home page</a></p>
        <ol class="items"><xsl:apply-templates select="item"/></ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <xsl:call-template name="title-link">
        <xsl:with-param name="title" select="title"/>
        <xsl:with-param name="href" select="link"/>
      </xsl:call-template>
      <p class="meta">
        <xsl:if test="pubDate"><time><xsl:value-of select="pubDate"/></time></xsl:if>
        <xsl:if test="source"> · <xsl:value-of select="source"/></xsl:if>
      </p>
      <xsl:if test="description">
        <div class="summary">
          <xsl:value-of select="description" disable-output-escaping="yes"/>
        </div>
      </xsl:if>
    </li>
  </xsl:template>

  <!-- Atom 1.0 -->
  <xsl:template match="atom:feed">
    <html lang="{{@xml:lang}}">
      <xsl:call-template name="head">
        <xsl:with-param name="title" select="atom:title"/>
      </xsl:call-template>
      <body>
        <xsl:call-template name="about">
          <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
        </xsl:call-template>
        <h1><xsl:value-of select="atom:title"/></h1>
        <p><xsl:value-of select="atom:subtitle"/></p>
        <p class="meta"><a href="{{atom:link[@rel='alternate']/@href}}">Home page</a></p>
        <ol class="items"><xsl:apply-templates select="atom:entry"/></ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <xsl:call-template name="title-link">
        <xsl:with-param name="title" select="atom:title"/>
        <xsl:with-param name="href" select="atom:link[@rel='alternate']/@href"/>
      </xsl:call-template>
      <p class="meta">
        <xsl:variable name="when">
          <xsl:choose>
            <xsl:when test="atom:published"><xsl:value-of select="atom:published"/></xsl:when>
            <xsl:otherwise><xsl:value-of select="atom:updated"/></xsl:otherwise>
          </xsl:choose>
        </xsl:variable>
        <time datetime="{{$when}}"><xsl:value-of select="translate($when, 'T', ' ')"/></time>
        <xsl:if test="atom:source/atom:title">
          · <xsl:value-of select="atom:source/atom:title"/>
        </xsl:if>
      </p>
      <xsl:if test="atom:summary">
        <p class="summary"><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </li>
  </xsl:template>
</xsl:stylesheet>
""".encode()


def with_stylesheet(document: bytes, href: str = STYLESHEET_HREF) -> bytes:
    """``document`` (an XML feed) with an ``xml-stylesheet`` instruction for ``href`` placed
    right after its XML declaration (at the very start when it has none)."""
    instruction = f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    if not document.startswith(b"<?xml"):
        return instruction + b"\n" + document
    end = document.index(b"?>") + 2
    return document[:end] + b"\n" + instruction + document[end:]


def browser_media_type(media_type: str, accept: str | None) -> str:
    """The media type to answer a request with ``accept`` for a file of ``media_type``:
    ``XML_MEDIA_TYPE`` for an RSS or Atom feed asked for by a browser (its ``Accept``
    names ``text/html`` or ``application/xhtml+xml`` with q > 0, as every browser's
    navigation does), so it renders the feed with the stylesheet; ``media_type`` for
    everything else and for feed readers. The body is the same either way."""
    if not accept or not media_type.startswith(_FEED_TYPES):
        return media_type
    for element in accept.split(","):
        name, *parameters = (part.strip() for part in element.split(";"))
        if name.lower() not in _PAGE_TYPES:
            continue
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return XML_MEDIA_TYPE
    return media_type
