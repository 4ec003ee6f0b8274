-- Per-project quota limits set by admins (`PUT /mgmt/quotas/{project}`); absent rows use the defaults.
CREATE TABLE quotas (
    project_id text NOT NULL,
    resource   text NOT NULL CHECK (resource IN ('instances', 'volumes', 'backups')),
    hard_limit int  NOT NULL CHECK (hard_limit >= -1),
    PRIMARY KEY (project_id, resource)
);

-- Usage is counted from the log itself inside the creating transaction; this keeps that count cheap.
CREATE INDEX events_instance_creates_by_project ON events ((data ->> 'projectId'))
    WHERE event_type = 'InstanceCreateRequested';
