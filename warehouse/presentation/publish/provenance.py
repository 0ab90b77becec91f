"""Who published each row's data, under what licence, and how to credit it.

Three publishers stand behind a release: Ring (its Active Agency Map and its law-enforcement
transparency reports: facts Ring published; no licence granted by Ring is known) and EFF's
Atlas of Surveillance (CC BY 4.0, as EFF states it on the site). A row's origin says which:
`atlas` rows come from an Atlas export, every other origin (live, wayback, file) is Ring's
own page, fetched, archived or saved. These records are the one place the names, licences
and the credit line are written; the data_sources table, datapackage.json, the README and
CITATION.cff all read them.
"""

from __future__ import annotations

from dataclasses import dataclass

CC_BY_4 = "CC-BY-4.0"
CC_BY_4_URL = "https://creativecommons.org/licenses/by/4.0/"
CC_BY_4_TITLE = "Creative Commons Attribution 4.0 International"
NO_KNOWN_LICENCE = "none known"  # the license column of Ring's rows
NOT_SPECIFIED = "notspecified"  # the Open Definition id datapackage.json gives the same fact
ATLAS_URL = "https://atlasofsurveillance.org"
ATLAS_CREDIT = ("Data from the Atlas of Surveillance, a project of the Electronic Frontier Foundation (EFF) and "
                "the Reynolds School of Journalism at the University of Nevada, Reno, "
                "https://atlasofsurveillance.org, licensed CC BY 4.0.")
WAYBACK_URL = "https://web.archive.org"


@dataclass(frozen=True, slots=True)
class DataSource:
    key: str  # agency_map | transparency | atlas
    name: str  # data_sources.source_name, and every row's source_name
    publisher: str
    url: str | None
    license: str  # CC-BY-4.0, or NO_KNOWN_LICENCE
    license_url: str | None
    credit: str
    note: str

    @property
    def is_atlas(self) -> bool:
        return self.key == "atlas"

    def license_descriptor(self) -> dict[str, str]:
        """This source's licence as a Frictionless license object."""
        if self.license == CC_BY_4 and self.license_url:
            return {"name": CC_BY_4, "path": self.license_url, "title": CC_BY_4_TITLE}
        return {"name": NOT_SPECIFIED, "title": "No licence granted by Ring is known: facts Ring published "
                                                "(see README.md, Sources and licences)"}


RING_MAP = DataSource(
    key="agency_map", name="Ring Active Agency Map", publisher="Ring LLC",
    url=None, license=NO_KNOWN_LICENCE, license_url=None,
    credit="Ring's Active Agency Map (published by Ring), as captured by ringwatch.",
    note="The map of police and fire agencies partnered with Ring's Neighbors app, published by Ring as a "
         "Google My Maps map. Facts published by Ring; no licence granted by Ring is known. Captured live, "
         "from Internet Archive copies (origin wayback) or from saved copies (origin file).",
)
RING_TRANSPARENCY = DataSource(
    key="transparency", name="Ring law-enforcement transparency reports", publisher="Ring LLC",
    url=None, license=NO_KNOWN_LICENCE, license_url=None,
    credit="Ring's law-enforcement transparency reports (published by Ring), as captured by ringwatch.",
    note="Ring's published counts of law-enforcement requests and how Ring answered them. Facts published by "
         "Ring; no licence granted by Ring is known.",
)
ATLAS = DataSource(
    key="atlas", name="EFF Atlas of Surveillance", publisher=(
        "Electronic Frontier Foundation (EFF) and the Reynolds School of Journalism at the University of "
        "Nevada, Reno"),
    url=ATLAS_URL, license=CC_BY_4, license_url=CC_BY_4_URL, credit=ATLAS_CREDIT,
    note="An export of the Atlas of Surveillance's Ring/Neighbors partnerships, loaded with ringwatch "
         "import-atlas (origin atlas). CC BY 4.0 is the licence EFF states on the site, as recorded when "
         "the export was loaded; check the exact credit wording on atlasofsurveillance.org before print.",
)
SOURCES = (RING_MAP, RING_TRANSPARENCY, ATLAS)


def source_for(capture_source: str, origin: str) -> DataSource:
    """The publisher of a capture: the Atlas for an Atlas export, else Ring's map or reports."""
    if origin == "atlas":
        return ATLAS
    return RING_TRANSPARENCY if capture_source == "transparency" else RING_MAP


# Provenance of every capture, and of every agency-map quarter through its snapshot's
# capture; the published relations join these (relations.py). pub_source_list is filled
# from SOURCES first, and source_url keeps http(s) addresses only.
CAPTURE_PROVENANCE = """
CREATE TEMP VIEW pub_capture_provenance AS
SELECT c.capture_id, c.origin, d.source_name, d.license,
       CASE WHEN regexp_matches(c.url, '^[Hh][Tt][Tt][Pp][Ss]?://') THEN c.url END AS source_url,
       c.sha256 AS capture_sha256, CAST(c.fetched_at AS DATE) AS observed_on
FROM captures AS c
JOIN pub_source_list AS d
  ON d.source_key = CASE WHEN c.origin = 'atlas' THEN 'atlas'
                         WHEN c.source = 'transparency' THEN 'transparency'
                         ELSE 'agency_map' END
"""

QUARTER_PROVENANCE = """
CREATE TEMP VIEW pub_quarter_provenance AS
SELECT s.quarter, s.origin, p.source_name, p.license, p.source_url, p.capture_sha256,
       CAST(s.observed_at AS DATE) AS observed_on
FROM snapshots AS s
JOIN pub_capture_provenance AS p ON p.capture_id = s.capture_id
WHERE s.source = 'agency_map'
"""

DATA_SOURCES_TABLE = """
CREATE TEMP TABLE pub_source_list (
    source_key VARCHAR, source_name VARCHAR, publisher VARCHAR, url VARCHAR, license VARCHAR,
    license_url VARCHAR, credit VARCHAR, note VARCHAR
)
"""
INSERT_DATA_SOURCE = "INSERT INTO pub_source_list VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

# The columns every row with provenance carries, and what they mean.
PROVENANCE_COLUMNS: dict[str, str] = {
    "origin": "Where the row's data was read: live (fetched from Ring's site), wayback (an Internet Archive copy "
              "of Ring's page), file (a saved copy of Ring's page) or atlas (an EFF Atlas of Surveillance export).",
    "source_name": "Who published the data (data_sources.source_name): Ring Active Agency Map, Ring "
                   "law-enforcement transparency reports, or EFF Atlas of Surveillance.",
    "license": "The data's licence as its publisher states it: CC-BY-4.0 for the Atlas of Surveillance (credit "
               "it as data_sources.credit says); 'none known' for Ring's data, facts Ring published under no "
               "licence known to us.",
    "source_url": "The web address the data was captured from (Ring's page, or its Internet Archive copy); "
                  "empty for a saved file or an Atlas export (captures.file_name names the file).",
    "capture_sha256": "SHA-256 of the captured bytes the row was read from (captures.sha256).",
    "observed_on": "UTC day the data was observed: the fetch, the archive copy's time, or the date given for a "
                   "saved file or an Atlas export.",
}
