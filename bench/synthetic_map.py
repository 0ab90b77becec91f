"""Synthetic Active Agency Maps in the real KML export layout, for tests and benchmarks.

Labelled synthetic everywhere they are used: names are made up, states and dates plausible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from xml.sax.saxutils import escape

STATES = ["AL", "AZ", "CA", "CO", "FL", "GA", "IL", "IN", "KY", "MI", "NC", "NJ", "NY", "OH",
          "PA", "TN", "TX", "VA", "WA", "WI", "Kentucky", "Texas", "North Carolina", "PR"]
KINDS = ["Police Department", "County Sheriff's Office", "Fire Department",
         "Fire Protection District", "Department of Public Safety", "Marshal's Office"]


# What an agency may be renamed to (the profile stays).
RENAMES = ["Department of Public Safety", "Police Services", "Public Safety Department", "Metro Police",
           "Police Department"]

# How another hand (or another era of the map) abbreviates the same names.
RETYPED = (("Police Department", "PD"), ("Department", "Dept."), ("County", "Co."),
           ("Sheriff's Office", "Sheriffs Office"), ("Fire Protection District", "Fire Prot. Dist."))


def synthetic_map_kml(count: int, *, seed: int = 7, fire_layer: bool = True,
                      with_profiles: bool = True, retyped: bool = False) -> bytes:
    """A direct KML with `count` placemarks in two Folders, like Google's export.

    The same seed gives the same agencies; `retyped` writes their names with the usual
    abbreviations, as the map's 2019-2020 era or an Atlas export might.
    """
    rng = random.Random(seed)
    law: list[str] = []
    fire: list[str] = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        name = f"Synthtown {i} {kind}"
        if retyped:
            for full, short in RETYPED:
                name = name.replace(full, short)
        state = STATES[rng.randrange(len(STATES))]
        month, day, year = rng.randint(1, 12), rng.randint(1, 28), rng.choice([2018, 2019, 2020, 2021, 2022, 2023])
        date = f"{month}/{day}/{year}" if i % 3 else f"{month}/{day}/{year % 100:02d}"
        if i % 50 == 0:
            date = ""
        uuid = f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        point = (rng.uniform(-120, -70), rng.uniform(25, 48)) if i % 17 else None
        placemark = _placemark(name, f"Synthtown {i}", state, date, uuid if with_profiles else None, point)
        (fire if fire_layer and "Fire" in kind else law).append(placemark)
    return _document(law, fire)


def _placemark(name: str, city: str, state: str, date: str, uuid: str | None,
               point: tuple[float, float] | None) -> str:
    profile = (f'<Data name="Agency Profile"><value>https://agency.ring.com/agencies/{uuid}</value></Data>'
               if uuid else "")
    where = f"<Point><coordinates>{point[0]:.4f},{point[1]:.4f},0</coordinates></Point>" if point else ""
    return (
        f"<Placemark><name><![CDATA[{name}]]></name><address>{escape(f'{city}, {state}')}</address>"
        f"<styleUrl>#icon-1899-0288D1</styleUrl><ExtendedData>"
        f'<Data name="Active Date"><value>{date}</value></Data>{profile}'
        f"</ExtendedData>{where}</Placemark>"
    )


def _document(law: list[str], fire: list[str]) -> bytes:
    folders = [f"<Folder><name>Law Enforcement Agencies</name>{''.join(law)}</Folder>"]
    if fire:
        folders.append(f"<Folder><name>Fire Departments</name>{''.join(fire)}</Folder>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><name>Active Agency Map (synthetic)</name>{''.join(folders)}</Document></kml>"
    ).encode()


@dataclass
class _Member:
    """One synthetic agency as the map shows it in the current quarter."""

    number: int
    name: str
    state: str
    date: str
    uuid: str
    point: tuple[float, float] | None
    renames: int = 0


def synthetic_quarters(count: int, quarters: int, *, seed: int = 11) -> list[bytes]:
    """`quarters` successive maps of about `count` agencies, as the real map changes.

    Most agencies stay from one quarter to the next; each quarter about 0.6% leave (a few
    come back later), 0.8% join, 0.4% are renamed (same profile, a new name key), 0.1% get a
    new profile under the same name (the name then links two profiles: ambiguous), 2% of
    the rows lack their profile link (known by name only that quarter) and 3% are written
    with the usual abbreviations (same name key).
    """
    rng = random.Random(seed)
    serial = iter(range(10**9))

    def member() -> _Member:
        number = next(serial)
        year = rng.choice([2018, 2019, 2020, 2021, 2022, 2023])
        date = "" if number % 50 == 0 else f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{year}"
        point = (rng.uniform(-120, -70), rng.uniform(25, 48)) if number % 17 else None
        return _Member(number, f"Synthtown {number} {KINDS[number % len(KINDS)]}",
                       STATES[rng.randrange(len(STATES))], date, _uuid(number, rng), point)

    active = [member() for _ in range(count)]
    gone: list[_Member] = []
    maps: list[bytes] = []
    for n in range(quarters):
        if n:
            leaving = set(rng.sample(range(len(active)), round(count * 0.006)))
            back = [gone.pop(rng.randrange(len(gone))) for _ in range(min(len(gone), rng.randint(0, 3)))]
            gone += [m for i, m in enumerate(active) if i in leaving]
            active = [m for i, m in enumerate(active) if i not in leaving] + back
            active += [member() for _ in range(round(count * 0.008))]
            for m in rng.sample(active, round(count * 0.004)):
                m.renames += 1
                m.name = f"Synthtown {m.number} {RENAMES[(m.number + m.renames) % len(RENAMES)]}"
            for m in rng.sample(active, max(1, round(count * 0.001))):
                m.uuid = _uuid(m.number, rng)
        law: list[str] = []
        fire: list[str] = []
        for m in active:
            name = m.name
            if rng.random() < 0.03:
                for full, short in RETYPED:
                    name = name.replace(full, short)
            uuid = None if rng.random() < 0.02 else m.uuid
            placemark = _placemark(name, f"Synthtown {m.number}", m.state, m.date, uuid, m.point)
            (fire if "Fire" in m.name else law).append(placemark)
        maps.append(_document(law, fire))
    return maps


def _uuid(number: int, rng: random.Random) -> str:
    return f"{number:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
