-- Likely misses of identity resolution, for a person to review: in one quarter held, an agency
-- left and another of the same type joined in the same state, with similar names in the same
-- city, or the same name in another city (the Atlas gives a sheriff's county seat where the map
-- may give another town). Pairs the aliases file calls different are left out. Built on
-- agency_changes. Decide each pair in config/agency_aliases.csv (docs/identity.md).
CREATE OR REPLACE VIEW agency_identity_review AS
WITH changes AS (
    SELECT quarter, compared_with, change, agency_id, name, agency_type, city, state,
           trim(regexp_replace(lower(name), '[^a-z0-9]+', ' ', 'g')) AS plain_name,
           trim(regexp_replace(lower(coalesce(city, '')), '[^a-z0-9]+', ' ', 'g')) AS plain_city
    FROM agency_changes
),
pairs AS (
    SELECT l.quarter, l.compared_with, l.state,
           l.agency_id AS left_agency_id, l.name AS left_name, l.city AS left_city,
           j.agency_id AS joined_agency_id, j.name AS joined_name, j.city AS joined_city,
           round(jaro_winkler_similarity(l.plain_name, j.plain_name), 3) AS name_similarity,
           l.plain_city = j.plain_city AS same_city
    FROM changes AS l
    JOIN changes AS j
      ON j.quarter = l.quarter AND j.state = l.state AND j.agency_type = l.agency_type
     AND l.change = 'left' AND j.change = 'joined'
),
decided_apart AS (
    SELECT ka.agency_id AS a, kb.agency_id AS b
    FROM agency_aliases AS x
    JOIN agency_keys AS ka ON ka.key_kind || ':' || ka.key = x.key_a
    JOIN agency_keys AS kb ON kb.key_kind || ':' || kb.key = x.key_b
    WHERE x.decision = 'different'
),
final AS (
    SELECT p.quarter, compared_with, state, left_agency_id, left_name, left_city,
           joined_agency_id, joined_name, joined_city, name_similarity,
           CASE WHEN same_city THEN 'similar name, same city' ELSE 'same name, another city' END AS reason,
           s.quarter_start
    FROM pairs AS p
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = p.quarter
    WHERE ((same_city AND name_similarity >= 0.8) OR name_similarity >= 0.97)
      AND NOT EXISTS (
          SELECT 1 FROM decided_apart AS d
          WHERE (d.a = p.left_agency_id AND d.b = p.joined_agency_id)
             OR (d.b = p.left_agency_id AND d.a = p.joined_agency_id))
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, state, left_name, joined_name;
COMMENT ON VIEW agency_identity_review IS 'Pairs of agencies that may be one agency under two ids: one left and one joined in the same quarter, same state and type, similar names in one city or one name in two cities. Decide each in config/agency_aliases.csv.';
COMMENT ON COLUMN agency_identity_review.quarter IS 'YYYYQn of the later snapshot.';
COMMENT ON COLUMN agency_identity_review.compared_with IS 'The quarter held just before.';
COMMENT ON COLUMN agency_identity_review.state IS 'USPS state code of both.';
COMMENT ON COLUMN agency_identity_review.left_agency_id IS 'The agency that left.';
COMMENT ON COLUMN agency_identity_review.left_name IS 'Its name.';
COMMENT ON COLUMN agency_identity_review.left_city IS 'Its city.';
COMMENT ON COLUMN agency_identity_review.joined_agency_id IS 'The agency that joined.';
COMMENT ON COLUMN agency_identity_review.joined_name IS 'Its name.';
COMMENT ON COLUMN agency_identity_review.joined_city IS 'Its city.';
COMMENT ON COLUMN agency_identity_review.name_similarity IS 'Jaro-Winkler similarity of the two names, lower case without punctuation (1 = equal).';
COMMENT ON COLUMN agency_identity_review.reason IS 'similar name, same city; or same name, another city.';
