-- Clusters: a read model written only by the `clusters` projection, and each instance's cluster (members are
-- hidden from instance lists unless asked for, as Trove does).
ALTER TABLE instances ADD COLUMN cluster_id text;
CREATE INDEX instances_by_cluster ON instances (cluster_id) WHERE cluster_id IS NOT NULL;

CREATE TABLE clusters (
    id                text        PRIMARY KEY,
    project_id        text        NOT NULL,
    name              text        NOT NULL,
    task              text        NOT NULL,
    datastore_type    text        NOT NULL,
    datastore_version text        NOT NULL,
    address           text,
    algorithm         text        NOT NULL,
    configuration_id  text,
    fault_message     text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           int         NOT NULL,
    deleted           boolean     NOT NULL DEFAULT false,
    state             jsonb       NOT NULL
);

CREATE INDEX clusters_by_project ON clusters (project_id, created_at DESC, id) WHERE NOT deleted;

-- A cluster member's group figures from its last heartbeat (Galera: wsrep_cluster_size, ...), for /metrics.
ALTER TABLE guest_heartbeats ADD COLUMN cluster_figures jsonb;
