"""URL rules: absolute http(s) only, canonical links without tracking parameters."""

from __future__ import annotations

import pytest

from aggregator.urls import absolute_url, canonical_url, origin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a?utm_source=x&b=1&fbclid=2#frag", "http://example.com/a?b=1"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://user:secret@example.com/p", "https://example.com/p"),
        ("https://example.com/p?gclid=1&utm_medium=rss&UTM_Campaign=c", "https://example.com/p"),
        ("https://example.com/p?b=2&a=1&mc_cid=9", "https://example.com/p?b=2&a=1"),
        ("https://example.com./p", "https://example.com/p"),
        ("https://[::1]:8080/x", "https://[::1]:8080/x"),
        ("https://example.com/p?item&a=1&c", "https://example.com/p?item&a=1&c"),
        (
            "https://example.com/s?q=a%20b&path=/x/y&utm_term=z",
            "https://example.com/s?q=a%20b&path=/x/y",
        ),
        ("https://example.com/s?q=한글&%75tm_source=x", "https://example.com/s?q=한글"),
        ("/relative/path?x=1", "https://base.example/relative/path?x=1"),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("mailto:a@b.c", None),
        ("", None),
        (None, None),
        ("https://example.com:99999/", None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url, "https://base.example/dir/feed") == expected


def test_absolute_url_resolves_against_the_base_and_keeps_the_rest() -> None:
    assert (
        absolute_url("img/a.png", "https://x.example/news/") == "https://x.example/news/img/a.png"
    )
    assert absolute_url("//cdn.example/a.png", "https://x.example/") == "https://cdn.example/a.png"
    assert absolute_url("https://x.example/a#b", None) == "https://x.example/a#b"
    assert absolute_url("javascript:void(0)", "https://x.example/") is None
    assert absolute_url("/a", None) is None


def test_origin() -> None:
    assert origin("https://newsdao.kr/rss?x=1") == "https://newsdao.kr"


@pytest.mark.parametrize(
    "url",
    [
        # Found by benchmarks/fuzz: encoded, the host came back lowercased ("%3C", "%3c"),
        # so the canonical form of a canonical link was another link.
        "https://userxa@pmm\x06<\x06\x06gseu",
        "https://u>443/\x00\x00\x00c./b\x00m_source\ufffdutm_sb#f",
        "https://exa mple.com/",
        "https://%65xample.com/",
        "https:///no-host",
    ],
)
def test_a_link_whose_host_no_name_can_be_is_no_link(url: str) -> None:
    assert canonical_url(url) is None


def test_international_and_address_hosts_stay_links() -> None:
    assert canonical_url("https://뉴스.example/기사") == "https://뉴스.example/기사"
    assert canonical_url("http://[2001:db8::1]:8080/a") == "http://[2001:db8::1]:8080/a"
