-- Operator data: the datastores, versions and flavors users can choose from (`cellar datastore`, `cellar flavor`).
CREATE TABLE datastores (
    id                 text        PRIMARY KEY,
    name               text        NOT NULL UNIQUE,
    default_version_id text,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE datastore_versions (
    id           text    PRIMARY KEY,
    datastore_id text    NOT NULL REFERENCES datastores (id),
    name         text    NOT NULL,
    version      text    NOT NULL,
    manager      text    NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    UNIQUE (datastore_id, name)
);

CREATE TABLE flavors (
    id           text PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    ram_mb       int  NOT NULL CHECK (ram_mb > 0),
    vcpus        int  NOT NULL CHECK (vcpus > 0),
    disk_gb      int  NOT NULL CHECK (disk_gb >= 0),
    ephemeral_gb int  NOT NULL DEFAULT 0 CHECK (ephemeral_gb >= 0)
);
