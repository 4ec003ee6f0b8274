-- The character sets and collations of each datastore version, as its real server lists them, loaded with its
-- parameters (NULL until then: `cellar up` loads what is missing).
ALTER TABLE datastore_parameters ADD COLUMN character_sets jsonb;
