from __future__ import annotations

import pytest

from ringwatch.scrapers.robots import RobotsPolicy, parse_robots

ORDER_DISAGREES = """
User-agent: *
Allow: /maps/d/kml
Disallow: /maps/
"""


def policy(text: str, agent: str = "ringwatch") -> RobotsPolicy:
    return parse_robots(text, agent)


@pytest.mark.parametrize(
    ("robots", "url", "allowed"),
    [
        # RFC 9309 2.2.2: the longest match wins, whatever the order.
        (ORDER_DISAGREES, "https://x.test/maps/d/kml?mid=1", True),
        (ORDER_DISAGREES, "https://x.test/maps/d/viewer", False),
        ("User-agent: *\nDisallow: /maps/\nAllow: /maps/d/kml\n", "https://x.test/maps/d/kml", True),
        ("User-agent: *\nAllow: /maps/d/\nDisallow: /maps/d/kml\n", "https://x.test/maps/d/kml", False),
        # A tie between Allow and Disallow goes to Allow.
        ("User-agent: *\nDisallow: /page\nAllow: /page\n", "https://x.test/page", True),
        # Wildcards and end anchors.
        ("User-agent: *\nDisallow: /*.kmz$\n", "https://x.test/maps/d/a.kmz", False),
        ("User-agent: *\nDisallow: /*.kmz$\n", "https://x.test/maps/d/a.kmz?x=1", True),
        ("User-agent: *\nDisallow: /maps/*/kml\n", "https://x.test/maps/d/kml", False),
        ("User-agent: *\nDisallow: /*?*forcekml=\n", "https://x.test/maps/d/kml?mid=1&forcekml=1", False),
        # An empty Disallow is no rule.
        ("User-agent: *\nDisallow:\n", "https://x.test/anything", True),
        # Query strings are part of the path matched.
        ("User-agent: *\nDisallow: /maps/d/kml?mid=\n", "https://x.test/maps/d/kml?mid=1", False),
        # Percent-encoding is compared in one spelling.
        ("User-agent: *\nDisallow: /a%3cb\n", "https://x.test/a%3Cb", False),
        # robots.txt itself is always allowed.
        ("User-agent: *\nDisallow: /\n", "https://x.test/robots.txt", True),
        ("User-agent: *\nDisallow: /\n", "https://x.test/maps", False),
    ],
)
def test_rfc9309_rules(robots: str, url: str, allowed: bool) -> None:
    assert policy(robots).allows(url) is allowed


def test_a_group_naming_us_replaces_the_star_group() -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: RingWatch/0.1\nAllow: /maps/\n"
    p = policy(text)
    assert p.allows("https://x.test/maps/d/kml")
    assert p.allows("https://x.test/other")  # no rule of our group matches


def test_groups_for_the_same_agent_are_merged() -> None:
    text = ("User-agent: ringwatch\nDisallow: /a\n\nUser-agent: other\nDisallow: /\n\n"
            "User-agent: ringwatch\nDisallow: /b\n")
    p = policy(text)
    assert not p.allows("https://x.test/a")
    assert not p.allows("https://x.test/b")
    assert p.allows("https://x.test/c")


def test_consecutive_user_agent_lines_share_one_group() -> None:
    text = "User-agent: other\nUser-agent: *\nDisallow: /private\n"
    assert not policy(text).allows("https://x.test/private/x")


def test_comments_and_unknown_lines_are_ignored() -> None:
    text = "# hi\nUser-agent: * # everyone\nCrawl-delay: 10\nSitemap: https://x.test/s.xml\nDisallow: /no # no\n"
    p = policy(text)
    assert not p.allows("https://x.test/no")
    assert p.allows("https://x.test/yes")


def test_decide_names_the_winning_rule() -> None:
    rule = policy(ORDER_DISAGREES).decide("https://x.test/maps/d/viewer")
    assert rule is not None
    assert (rule.allow, rule.pattern) == (False, "/maps/")
