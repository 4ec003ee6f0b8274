-- The configurable settings of each datastore version, as its real server describes them (pg_settings),
-- loaded by `cellar datastore parameters load` (and by `cellar up` when missing).
CREATE TABLE datastore_parameters (
    version_id text        PRIMARY KEY REFERENCES datastore_versions (id) ON DELETE CASCADE,
    parameters jsonb       NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- Read model of configuration groups: written only by the `configuration_groups` projection.
CREATE TABLE configuration_groups (
    id                     text        PRIMARY KEY,
    project_id             text        NOT NULL,
    name                   text        NOT NULL,
    description            text,
    datastore_name         text        NOT NULL,
    datastore_version_name text        NOT NULL,
    datastore_version_id   text        NOT NULL,
    parameter_values       jsonb       NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    version                int         NOT NULL,
    deleted                boolean     NOT NULL DEFAULT false
);

CREATE INDEX configuration_groups_by_project ON configuration_groups (project_id, created_at, id) WHERE NOT deleted;
CREATE INDEX instances_by_configuration ON instances (configuration_id) WHERE NOT deleted AND configuration_id IS NOT NULL;
