-- Migration 2: law-enforcement transparency reports and their figures.

CREATE TABLE transparency_reports (
    report_id     VARCHAR PRIMARY KEY,
    url           VARCHAR NOT NULL,
    title         VARCHAR NOT NULL,
    published_on  DATE,
    capture_id    BIGINT NOT NULL
);
COMMENT ON TABLE transparency_reports IS 'One row per transparency report page ever parsed, with its latest capture.';
COMMENT ON COLUMN transparency_reports.report_id IS 'Stable id: t- and a hash of the page URL without query or fragment.';
COMMENT ON COLUMN transparency_reports.url IS 'The page URL.';
COMMENT ON COLUMN transparency_reports.title IS 'The page title (its h1).';
COMMENT ON COLUMN transparency_reports.published_on IS 'Publication date the page gives, when it gives one.';
COMMENT ON COLUMN transparency_reports.capture_id IS 'The latest capture of the page that was parsed.';

CREATE TABLE le_request_counts (
    report_id     VARCHAR NOT NULL,
    period_label  VARCHAR NOT NULL,
    period_start  DATE NOT NULL,
    period_end    DATE NOT NULL,
    country       VARCHAR NOT NULL,
    request_type  VARCHAR NOT NULL,
    outcome       VARCHAR NOT NULL,
    value         BIGINT,
    value_low     BIGINT,
    value_high    BIGINT,
    capture_id    BIGINT NOT NULL,
    observed_at   TIMESTAMP NOT NULL,
    label         VARCHAR NOT NULL,
    CHECK ((value IS NOT NULL AND value_low IS NULL AND value_high IS NULL)
        OR (value IS NULL AND value_low IS NOT NULL AND value_high IS NOT NULL AND value_low <= value_high))
);
COMMENT ON TABLE le_request_counts IS 'Every figure of every transparency report, as observed: a figure restated later (same period, country, type and outcome) keeps both observations, and the latest is current (see le_request_counts_current).';
COMMENT ON COLUMN le_request_counts.report_id IS 'The report page it was read from (transparency_reports.report_id).';
COMMENT ON COLUMN le_request_counts.period_label IS 'The reporting period as the page wrote it (2020, H1 2021, January 1 - June 30, 2021).';
COMMENT ON COLUMN le_request_counts.period_start IS 'First day of the period.';
COMMENT ON COLUMN le_request_counts.period_end IS 'Last day of the period (inclusive).';
COMMENT ON COLUMN le_request_counts.country IS 'ISO 3166 alpha-2 code of the requesting country; US unless the page says otherwise; ALL for a total over countries; a name as written when it is not a known country.';
COMMENT ON COLUMN le_request_counts.request_type IS 'subpoenas, search_warrants, court_orders, emergency_requests, preservation_requests, national_security_requests, non_us_requests, all (every legal demand together), or another labelled type under its own name.';
COMMENT ON COLUMN le_request_counts.outcome IS 'received, full_response, partial_response, no_response, or another labelled figure (users_notified, ...).';
COMMENT ON COLUMN le_request_counts.value IS 'The figure, when the page gives an exact number; NULL for a range.';
COMMENT ON COLUMN le_request_counts.value_low IS 'Lower bound of a range such as 0-249 (national-security figures); NULL for exact figures.';
COMMENT ON COLUMN le_request_counts.value_high IS 'Upper bound of a range; NULL for exact figures.';
COMMENT ON COLUMN le_request_counts.capture_id IS 'The capture it was parsed from.';
COMMENT ON COLUMN le_request_counts.observed_at IS 'UTC time of the observation (when the page was fetched).';
COMMENT ON COLUMN le_request_counts.label IS 'The text the figure was found under, as written (a table row and column, a list label, a sentence).';
