"""Synthetic Active Agency Maps in the real KML export layout, for tests and benchmarks.

Labelled synthetic everywhere they are used: names are made up, states and dates plausible.
"""

from __future__ import annotations

import random
from xml.sax.saxutils import escape

STATES = ["AL", "AZ", "CA", "CO", "FL", "GA", "IL", "IN", "KY", "MI", "NC", "NJ", "NY", "OH",
          "PA", "TN", "TX", "VA", "WA", "WI", "Kentucky", "Texas", "North Carolina", "PR"]
KINDS = ["Police Department", "County Sheriff's Office", "Fire Department",
         "Fire Protection District", "Department of Public Safety", "Marshal's Office"]


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
        profile = (f'<Data name="Agency Profile"><value>https://agency.ring.com/agencies/{uuid}</value></Data>'
                   if with_profiles else "")
        point = (f"<Point><coordinates>{rng.uniform(-120, -70):.4f},{rng.uniform(25, 48):.4f},0"
                 "</coordinates></Point>") if i % 17 else ""
        placemark = (
            f"<Placemark><name><![CDATA[{name}]]></name><address>{escape(f'Synthtown {i}, {state}')}</address>"
            f"<styleUrl>#icon-1899-0288D1</styleUrl><ExtendedData>"
            f'<Data name="Active Date"><value>{date}</value></Data>{profile}'
            f"</ExtendedData>{point}</Placemark>"
        )
        (fire if fire_layer and "Fire" in kind else law).append(placemark)
    folders = [f"<Folder><name>Law Enforcement Agencies</name>{''.join(law)}</Folder>"]
    if fire:
        folders.append(f"<Folder><name>Fire Departments</name>{''.join(fire)}</Folder>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><name>Active Agency Map (synthetic)</name>{''.join(folders)}</Document></kml>"
    ).encode()
