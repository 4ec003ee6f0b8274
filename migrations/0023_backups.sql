-- Backups as the API lists them (`BackupProjection`): one row per backup stream, its folded state kept in `state`
-- (without the backup's sealed key, which only its stream holds).
CREATE TABLE backups (
    id                text PRIMARY KEY,
    project_id        text NOT NULL,
    instance_id       text,
    name              text NOT NULL,
    status            text NOT NULL,
    datastore_type    text NOT NULL,
    datastore_version text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           integer NOT NULL,
    deleted           boolean NOT NULL DEFAULT false,
    state             jsonb NOT NULL
);
CREATE INDEX backups_by_project ON backups (project_id, created_at) WHERE NOT deleted;
CREATE INDEX backups_by_instance ON backups (instance_id) WHERE NOT deleted;
