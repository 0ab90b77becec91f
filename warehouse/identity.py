"""One agency, one id: resolve the keys agencies were seen under into agencies.

The map's history comes from sources that name an agency differently: the 2019-2021 map
(name and address), today's map (a Ring profile uuid), EFF Atlas exports (an AOSNUMBER, a
name and a place as EFF wrote them). Each observation of an agency carries one or more
keys; keys seen together in one observation belong to one agency. The resolution is a pure
function of the set of observations and the reviewed aliases, so the order in which
snapshots were loaded cannot change any id.

The rules, in order:
1. Keys other than uuids that were seen together (a name key and an AOSNUMBER in one Atlas
   row) or that an alias says are the same form one group. A uuid is one agency; two uuids
   are one agency only when an alias says so.
2. A group of name or Atlas keys joins the one uuid it was seen with (a 2021-era placemark
   carries both a profile and a name). Seen with several uuids, it joins none of them: the
   observations known only by that name stay an agency of their own and an
   `ambiguous_identity` warning says so. An alias linking the group to a uuid decides.
3. An alias saying two keys are different is never overruled: a link that would join them
   is not made, and an `identity_conflict` warning says which.

The id of an agency is its smallest uuid, or for an agency never seen with a profile, `h-`
and a hash of its smallest key: one agency, one id, whatever the era or the origin.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from ringwatch.scrapers.records import QualityWarning


class KeyKind:
    """What a key is: plain strings (as stored in agency_keys.key_kind), since a str enum
    member hashes in Python and resolution hashes keys a few hundred thousand times per load.
    ALL is the order of preference for the key an observation is filed under."""

    UUID = "uuid"  # the Ring Agency Profile uuid (map, from 2021-06)
    NAME = "name"  # normalized name|city|ST (every observation)
    ORI = "ori"  # FBI Originating Agency Identifier (Atlas NEWAOSNUMBER (ORI9))
    AOS = "aos"  # Atlas of Surveillance record number
    ALL = (UUID, NAME, ORI, AOS)


_PREFERENCE = {kind: n for n, kind in enumerate(KeyKind.ALL)}


class Key(NamedTuple):
    """A key as stored: its kind (one of KeyKind.ALL) and its normalized value; a plain tuple,
    so that hashing and comparing stay in C."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Decision(StrEnum):
    SAME = "same"
    DIFFERENT = "different"


@dataclass(frozen=True, slots=True)
class AliasDecision:
    """One reviewed line of the aliases file: these two keys are the same agency, or not."""

    decision: Decision
    a: Key
    b: Key
    note: str = ""
    line: int = 0


Sighting = tuple[Key, ...]


def own_key(sighting: Sighting) -> Key:
    """The key an observation is filed under: its uuid, else its name key, else the rest."""
    return _preferred(sighting)


@dataclass(frozen=True, slots=True)
class Resolution:
    """Every key's agency, and what could not be decided."""

    agency_of: dict[Key, str]
    warnings: tuple[QualityWarning, ...] = ()

    def agency_for(self, sighting: Sighting) -> str:
        return self.agency_of[own_key(sighting)]


@dataclass
class _Groups:
    """Union-find over keys that refuses any union an alias forbids. A key never joined is
    its own group and costs nothing: most keys of a map are never joined to another."""

    parent: dict[Key, Key] = field(default_factory=dict)
    members: dict[Key, set[Key]] = field(default_factory=dict)  # roots of groups of two or more
    apart: dict[Key, set[Key]] = field(default_factory=lambda: defaultdict(set))

    def find(self, key: Key) -> Key:
        parent = self.parent
        root = key
        while root in parent:
            root = parent[root]
        while key in parent and parent[key] != root:  # path compression
            parent[key], key = root, parent[key]
        return root

    def members_of(self, root: Key) -> set[Key]:
        return self.members.get(root) or {root}

    def forbidden(self, a: Key, b: Key) -> tuple[Key, Key] | None:
        """A pair of keys, one from each group, that an alias says are different."""
        if not self.apart:
            return None
        small, large = sorted((self.members_of(self.find(a)), self.members_of(self.find(b))), key=len)
        for key in sorted(small):
            clash = self.apart.get(key, set()) & large
            if clash:
                return key, min(clash)
        return None

    def union(self, a: Key, b: Key) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        merged = self.members_of(keep) | self.members.pop(drop, {drop})
        self.parent[drop] = keep
        self.members[keep] = merged


def resolve(sightings: Iterable[Sighting], aliases: Iterable[AliasDecision] = ()) -> Resolution:
    """Resolve every key to an agency id (see the module docstring for the rules)."""
    seen = sorted({tuple(sorted(set(s))) for s in sightings if s})
    decisions = sorted(aliases, key=lambda d: (d.decision, d.a, d.b, d.line))
    groups = _Groups()
    every_key: set[Key] = set()
    for decision in decisions:
        every_key.update((decision.a, decision.b))
        if decision.decision is Decision.DIFFERENT:
            groups.apart[decision.a].add(decision.b)
            groups.apart[decision.b].add(decision.a)
    warnings: list[QualityWarning] = []

    def join(a: Key, b: Key, why: str) -> None:
        if groups.find(a) == groups.find(b):
            return
        clash = groups.forbidden(a, b)
        if clash is not None:
            warnings.append(QualityWarning(
                kind="identity_conflict", subject=str(a),
                detail=(f"{why} would make {a} and {b} one agency, but the aliases file says {clash[0]} "
                        f"and {clash[1]} are different; they were kept apart."),
            ))
            return
        groups.union(a, b)

    # 1. Groups of non-uuid keys; uuids join only uuids, and only by alias.
    observed: dict[Key, set[Key]] = defaultdict(set)  # non-uuid key -> uuids seen with it
    for sighting in seen:
        every_key.update(sighting)
        plain = [k for k in sighting if k.kind != KeyKind.UUID]
        for other in plain[1:]:
            join(plain[0], other, "an observation")
        if len(plain) < len(sighting):
            profiles_seen = [k for k in sighting if k.kind == KeyKind.UUID]
            for key in plain:
                observed[key].update(profiles_seen)
    same = [d for d in decisions if d.decision is Decision.SAME]
    aliased: dict[Key, set[Key]] = defaultdict(set)  # non-uuid key -> uuids an alias names
    for decision in same:
        a_uuid, b_uuid = decision.a.kind == KeyKind.UUID, decision.b.kind == KeyKind.UUID
        if a_uuid == b_uuid:
            join(decision.a, decision.b, f"aliases line {decision.line}")
        else:
            profile, other = (decision.a, decision.b) if a_uuid else (decision.b, decision.a)
            aliased[other].add(profile)

    # 2. Each group of non-uuid keys joins the one uuid it was seen with, if there is one.
    linked = set(observed) | set(aliased)
    plain_roots = sorted({groups.find(k) for k in linked})
    for root in plain_roots:
        group = sorted(groups.members_of(root))
        by_alias = {groups.find(u) for k in group for u in aliased.get(k, ())}
        targets = by_alias or {groups.find(u) for k in group for u in observed.get(k, ())}
        subject = _preferred(group)
        if len(targets) == 1:
            join(subject, next(iter(targets)), "a placemark carrying both a profile and a name")
        elif len(targets) > 1:
            profiles = sorted(str(_preferred(groups.members_of(t))) for t in targets)
            warnings.append(QualityWarning(
                kind="ambiguous_identity", subject=str(subject),
                detail=(f"{subject} was seen with {len(profiles)} different Ring profiles "
                        f"({', '.join(profiles)}); observations known only by this name are kept as an "
                        "agency of their own. Decide in config/agency_aliases.csv (same or different)."),
            ))

    # 3. One id per group.
    agency_of: dict[Key, str] = {}
    id_of_root: dict[Key, str] = {}
    for key in every_key:
        root = groups.find(key)
        agency_id = id_of_root.get(root)
        if agency_id is None:
            members = groups.members_of(root)
            uuid_values = sorted(k.value for k in members if k.kind == KeyKind.UUID)
            agency_id = uuid_values[0] if uuid_values else _hashed_id(_preferred(members))
            id_of_root[root] = agency_id
        agency_of[key] = agency_id
    return Resolution(agency_of=agency_of, warnings=tuple(warnings))


def _preferred(keys: Iterable[Key]) -> Key:
    """The key that names a group: its smallest uuid, else its smallest name key, and so on."""
    return min(keys, key=lambda k: (_PREFERENCE[k.kind], k.value))


def _hashed_id(key: Key) -> str:
    return "h-" + hashlib.sha256(str(key).encode("utf-8")).hexdigest()[:20]
