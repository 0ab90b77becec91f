"""robots.txt rules as RFC 9309 defines them (pure: text in, decisions out).

The standard library's urllib.robotparser applies the first matching rule in file order;
RFC 9309 says the most specific (longest) matching rule wins, whatever the order, and
Allow wins a tie. Google's own robots.txt relies on that, so we implement the RFC.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

# RFC 9309 section 2.5: crawlers MUST parse at least 500 kibibytes.
MAX_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    pattern: str  # normalized path pattern, may hold * and a trailing $

    def matches(self, path: str) -> bool:
        return pattern_matches(self.pattern, path)


@dataclass(frozen=True, slots=True)
class RobotsPolicy:
    """The rules that apply to one user agent on one host."""

    rules: tuple[Rule, ...]

    @classmethod
    def allow_all(cls) -> RobotsPolicy:
        return cls(rules=())

    @classmethod
    def disallow_all(cls) -> RobotsPolicy:
        return cls(rules=(Rule(allow=False, pattern="/"),))

    def decide(self, url: str) -> Rule | None:
        """Return the rule that decides `url`, or None when no rule matches (allowed)."""
        path = _path_of(url)
        if path == "/robots.txt":
            return None  # RFC 9309 2.2.2: /robots.txt itself is always allowed
        best: Rule | None = None
        for rule in self.rules:
            if not rule.matches(path):
                continue
            if best is None or _specificity(rule) > _specificity(best):
                best = rule
            elif _specificity(rule) == _specificity(best) and rule.allow:
                best = rule  # a tie goes to Allow
        return best

    def allows(self, url: str) -> bool:
        rule = self.decide(url)
        return rule is None or rule.allow


def parse_robots(text: str, user_agent_token: str) -> RobotsPolicy:
    """Collect the rules of every group that names our product token, else of `*`.

    Groups are one or more user-agent lines followed by rules; several groups naming the
    same agent are merged (RFC 9309 2.2.1). Unknown lines (Sitemap, Crawl-delay) are ignored.
    """
    token = user_agent_token.lower()
    ours: list[Rule] = []
    star: list[Rule] = []
    matched_ours = matched_star = False
    agents: list[str] = []
    in_rules = False
    for raw in text[:MAX_ROBOTS_BYTES].splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
            continue
        if key not in ("allow", "disallow"):
            continue
        in_rules = True
        if not value:
            continue  # "Disallow:" with no path is no rule at all
        rule = Rule(allow=key == "allow", pattern=_normalize(value))
        if any(_agent_matches(a, token) for a in agents):
            ours.append(rule)
            matched_ours = True
        if "*" in agents:
            star.append(rule)
            matched_star = True
    if matched_ours:
        return RobotsPolicy(tuple(ours))
    if matched_star:
        return RobotsPolicy(tuple(star))
    return RobotsPolicy.allow_all()


def _agent_matches(agent_line: str, token: str) -> bool:
    # RFC 9309 2.2.1: match the product token case-insensitively, ignoring any version.
    name = agent_line.split("/", 1)[0].strip()
    return name != "*" and name == token


def _specificity(rule: Rule) -> int:
    # "The most specific match found MUST be used ... the match with the most octets."
    return len(rule.pattern.encode("utf-8"))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _normalize(path)


def _normalize(path: str) -> str:
    # Compare percent-encoded forms with one spelling: decode, then re-encode everything
    # but the characters that carry meaning in a path or a robots pattern.
    return quote(unquote(path), safe="/?&=*$:@!,;+%-._~")


def pattern_matches(pattern: str, path: str) -> bool:
    """Whether a robots.txt path pattern (`*` = any run of characters, a final `$` = the end)
    matches `path`, in time linear in their lengths.

    Patterns used to become regular expressions (`*` as `.*`), which backtrack: a hostile
    robots.txt with many wildcards took hours per URL. Here the literal pieces between the
    stars are found left to right, each at its leftmost place after the one before (enough,
    since a star takes anything in between), and a `$` pattern's last piece must end the path.
    protego, Scrapy's robots.txt parser, matches the same way since its 0.4 release.
    """
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    pieces = body.split("*")
    if len(pieces) == 1:
        return path == body if anchored else path.startswith(body)
    first, *middle, last = pieces
    if not path.startswith(first):
        return False
    position = len(first)
    for piece in middle:
        if not piece:
            continue
        found = path.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    if anchored:
        return len(path) - len(last) >= position and path.endswith(last)
    return not last or path.find(last, position) >= 0
