-- Read model of instances, their databases and users: written only by the `instances` projection.
CREATE TABLE instances (
    id                text        PRIMARY KEY,
    project_id        text        NOT NULL,
    name              text        NOT NULL,
    status            text        NOT NULL,
    operating_status  text        NOT NULL,
    flavor_id         text        NOT NULL,
    volume_size       int         NOT NULL,
    datastore_type    text        NOT NULL,
    datastore_version text        NOT NULL,
    address           text,
    configuration_id  text,
    replica_of        text,
    fault_message     text,
    fault_at          timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           int         NOT NULL,
    deleted           boolean     NOT NULL DEFAULT false,
    state             jsonb       NOT NULL
);

CREATE INDEX instances_by_project ON instances (project_id, created_at DESC, id) WHERE NOT deleted;

CREATE TABLE instance_databases (
    instance_id   text NOT NULL,
    name          text NOT NULL,
    character_set text,
    collation_name text,
    PRIMARY KEY (instance_id, name)
);

CREATE TABLE instance_users (
    instance_id text   NOT NULL,
    name        text   NOT NULL,
    host        text   NOT NULL,
    databases   text[] NOT NULL,
    PRIMARY KEY (instance_id, name, host)
);
