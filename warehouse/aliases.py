"""The reviewed aliases file (config/agency_aliases.csv): a person's word on identity.

Each line says two keys are the same agency or are different agencies:

    decision,key_a,key_b,note
    same,name:Lakeside Public Safety|Lakeside|CA,name:Lakeside Police Department|Lakeside|CA,renamed 2022
    different,name:Madison Police Department|Madison|WI,uuid:0f3c...,a second department

Keys are written `kind:value`: `uuid:` a Ring profile uuid or profile URL; `name:` the
agency's name, city and state separated by `|`, as written anywhere (they are normalized
the same way as the map's); `aos:` an Atlas AOSNUMBER; `ori:` an FBI ORI. Lines starting
with `#` and blank lines are ignored. A mistake is a ConfigError naming the file and line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ringwatch.scrapers.agency_names import name_key_for
from ringwatch.scrapers.errors import ConfigError
from ringwatch.scrapers.normalize import uuid_from_profile
from ringwatch.warehouse.identity import AliasDecision, Decision, Key, KeyKind

HEADER = ("decision", "key_a", "key_b", "note")


def parse_key(text: str, *, where: str) -> Key:
    """A key as written in the aliases file, in the form the warehouse stores it."""
    kind_text, sep, value = text.strip().partition(":")
    kinds = ", ".join(f"{k}:" for k in KeyKind.ALL)
    kind = kind_text.strip().lower()
    if not sep or kind not in KeyKind.ALL:
        raise ConfigError(f"{where}: {text.strip()!r} is not a key; write one of {kinds} followed by its value.")
    value = value.strip()
    if kind == KeyKind.UUID:
        uuid = uuid_from_profile(value)
        if uuid is None:
            raise ConfigError(f"{where}: {value!r} holds no Ring profile uuid "
                              "(8-4-4-4-12 hex digits, alone or in a profile URL).")
        return Key(kind, uuid)
    if kind == KeyKind.NAME:
        parts = value.split("|")
        if len(parts) != 3 or not parts[0].strip() or not parts[2].strip():
            raise ConfigError(f"{where}: a name key is 'name:<agency name>|<city>|<state>' (the city may be "
                              f"empty), not {value!r}.")
        return Key(kind, name_key_for(*parts))
    if not value:
        raise ConfigError(f"{where}: the {kind} key has no value.")
    return Key(kind, value.upper())


def parse_aliases(text: str, *, file: str) -> tuple[AliasDecision, ...]:
    lines = [line for line in text.splitlines()]
    body = "\n".join("" if line.lstrip().startswith("#") else line for line in lines)
    rows = list(csv.reader(io.StringIO(body)))
    decisions: list[AliasDecision] = []
    header_seen = False
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        where = f"{file} line {number}"
        if not header_seen:
            if tuple(c.lower() for c in cells[:3]) != HEADER[:3]:
                raise ConfigError(f"{where}: the first line must be the header {','.join(HEADER)}.")
            header_seen = True
            continue
        if len(cells) < 3:
            raise ConfigError(f"{where}: expected decision,key_a,key_b[,note], found {len(cells)} field(s).")
        try:
            decision = Decision(cells[0].lower())
        except ValueError:
            raise ConfigError(f"{where}: the decision must be 'same' or 'different', not {cells[0]!r}.") from None
        a, b = parse_key(cells[1], where=where), parse_key(cells[2], where=where)
        if a == b:
            raise ConfigError(f"{where}: both sides are the key {a}; after normalization they are one key "
                              "already, so this line decides nothing.")
        decisions.append(AliasDecision(decision, a, b, ",".join(cells[3:]), number))
    _check_consistent(decisions, file=file)
    return tuple(decisions)


def read_aliases(path: Path) -> tuple[AliasDecision, ...]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"the aliases file {path} does not exist; create it with the header "
                          f"{','.join(HEADER)} or fix [identity] aliases_file.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the aliases file {path} is not UTF-8 text ({exc}).") from None
    return parse_aliases(text, file=str(path))


def _check_consistent(decisions: list[AliasDecision], *, file: str) -> None:
    said: dict[frozenset[Key], AliasDecision] = {}
    for decision in decisions:
        pair = frozenset((decision.a, decision.b))
        earlier = said.get(pair)
        if earlier is not None and earlier.decision is not decision.decision:
            raise ConfigError(f"{file}: lines {earlier.line} and {decision.line} say {decision.a} and "
                              f"{decision.b} are both the same and different; keep one.")
        said[pair] = decision
