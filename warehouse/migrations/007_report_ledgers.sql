-- Migration 7: every number on a report page is accounted for (the parser's ledger). One row
-- per parsed capture says how many numbers its main content held and how each was taken:
-- placed as a figure, explained as not a count, or unplaced (each unplaced number is also a
-- quality_warnings row of kind unplaced_number quoting it). Captures parsed before this
-- migration have no row until 'ringwatch reparse' reads them again.

CREATE TABLE report_ledgers (
    capture_id    BIGINT PRIMARY KEY,
    report_id     VARCHAR NOT NULL,
    numbers_seen  INTEGER NOT NULL,
    placed        INTEGER NOT NULL,
    explained     INTEGER NOT NULL,
    unplaced      INTEGER NOT NULL,
    parsed_at     TIMESTAMP NOT NULL,
    CHECK (numbers_seen = placed + explained + unplaced)
);
COMMENT ON TABLE report_ledgers IS 'How every number in a parsed transparency report page was accounted for: one row per capture parsed (a reparse replaces it).';
COMMENT ON COLUMN report_ledgers.capture_id IS 'The capture parsed (captures.capture_id).';
COMMENT ON COLUMN report_ledgers.report_id IS 'The report page (transparency_reports.report_id).';
COMMENT ON COLUMN report_ledgers.numbers_seen IS 'Numbers in the page''s main content (digit runs, thousands separators included).';
COMMENT ON COLUMN report_ledgers.placed IS 'Numbers read as figures: a request type, outcome, country and period each.';
COMMENT ON COLUMN report_ledgers.explained IS 'Numbers that are not counts: dates and years, period bounds, footnote markers and footnotes, the other end of a placed range, percentages, legal citations, phone numbers, addresses.';
COMMENT ON COLUMN report_ledgers.unplaced IS 'Numbers the parser could not place; each is a quality_warnings row of kind unplaced_number quoting it. 0 means the page was read completely.';
COMMENT ON COLUMN report_ledgers.parsed_at IS 'UTC time the capture was parsed.';
