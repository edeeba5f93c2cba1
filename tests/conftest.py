"""Shared fixtures: the reference article and the source that published it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator import frontmatter
from aggregator.model import Article, Source, Templates
from tests.feedserver import FeedServer, running_server

DATA = Path(__file__).parent / "data"
SEED_PATH = DATA / "000_e1cb8cc54f725201.txt"

ADSKOREA = Source(
    id="adskorea",
    url="https://newsdao.kr/rss",
    name="adskorea",
    home="https://newsdao.kr",
    categories=("News",),
    interval=timedelta(minutes=10),
    default_image="https://newsdao.kr/res/images/meta/newsdao_breakingnews.jpg",
    templates=Templates(
        feature_text="## {source_name} 실시간 뉴스 속보입니다.\n{excerpt}",
        header='<p><img src="{image}" alt="{source_name} 속보" /></p>',
        footer='실시간 뉴스 속보는, <a href="{home}" rel="dofollow">{home}</a>',
    ),
)


def seed_article() -> Article:
    return frontmatter.loads(SEED_PATH.read_text(encoding="utf-8"))


def seed_content() -> str:
    """The part of the reference body that came from the feed (between header and footer)."""
    body = seed_article().body
    header, _, rest = body.partition("\n\n")
    content, _, footer = rest.rpartition("\n")
    assert header.startswith("<p><img") and footer.startswith("실시간 뉴스 속보는")
    return content


@pytest.fixture
def adskorea() -> Source:
    return ADSKOREA


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with running_server() as server:
        yield server
