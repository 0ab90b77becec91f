-- Which report pages were read completely: each report's latest parsed capture with its
-- ledger. A page with unplaced numbers lost nothing silently: each is a quality_warnings row
-- (kind unplaced_number) quoting it. No ledger: parsed before migration 7; run reparse.
CREATE OR REPLACE VIEW report_pages_read AS
SELECT r.report_id, r.url, r.title, r.capture_id, c.fetched_at,
       l.numbers_seen, l.placed, l.explained, l.unplaced,
       l.unplaced = 0 AS read_completely,
       l.parsed_at
FROM transparency_reports AS r
LEFT JOIN captures AS c USING (capture_id)
LEFT JOIN report_ledgers AS l USING (capture_id)
ORDER BY r.url;
COMMENT ON VIEW report_pages_read IS 'Which transparency report pages were read completely: the latest parsed capture of each, with how many of its numbers were placed, explained or left unplaced.';
COMMENT ON COLUMN report_pages_read.report_id IS 'The report page.';
COMMENT ON COLUMN report_pages_read.url IS 'Its URL.';
COMMENT ON COLUMN report_pages_read.title IS 'Its title.';
COMMENT ON COLUMN report_pages_read.capture_id IS 'Its latest parsed capture.';
COMMENT ON COLUMN report_pages_read.fetched_at IS 'When that capture was fetched (UTC).';
COMMENT ON COLUMN report_pages_read.numbers_seen IS 'Numbers in the page''s main content; NULL when the capture was parsed before ledgers existed (run ringwatch reparse).';
COMMENT ON COLUMN report_pages_read.placed IS 'Numbers read as figures.';
COMMENT ON COLUMN report_pages_read.explained IS 'Numbers that are not counts (dates, footnotes, percentages, citations...).';
COMMENT ON COLUMN report_pages_read.unplaced IS 'Numbers that could not be placed: each is a quality_warnings row of kind unplaced_number.';
COMMENT ON COLUMN report_pages_read.read_completely IS 'True when every number was placed or explained; NULL when there is no ledger yet.';
COMMENT ON COLUMN report_pages_read.parsed_at IS 'When the ledger was made (UTC).';
