-- The operator's default datastore (Trove's `default_datastore`): what an instance or cluster create without a
-- `datastore` gets, with that datastore's `default_version_id`. At most one; none means such a create is refused.
ALTER TABLE datastores ADD COLUMN is_default boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX datastores_one_default ON datastores (is_default) WHERE is_default;

-- Deployments seeded before there was a default get the MySQL family's, as Trove deployments do.
UPDATE datastores SET is_default = true WHERE name = 'mariadb';
