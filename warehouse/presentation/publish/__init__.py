"""`ringwatch publish`: one immutable, citable release of the warehouse (docs/publishing.md).

release.py stages and publishes (the release id, the folder's files); relations.py says what
is published and how each relation is read; provenance.py who published each row's data and
under what licence; scrub.py keeps local paths, host names and process ids out; package.py
writes the data files and datapackage.json; texts.py the README, CITATION.cff and CHANGES.md.
store.py (where a release goes: a folder or object storage) and sqlite_copy.py (the SQLite
copy and Datasette's metadata.json) take the staged folder from there.
"""
