-- Every observation has a resolved agency and says whether it represents it.
SELECT quarter, observation_no FROM agency_observations
WHERE agency_id IS NULL OR represents_agency IS NULL
