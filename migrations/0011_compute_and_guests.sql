-- Loopback addresses leased to instances by the task manager (one per instance, never shared).
CREATE TABLE address_leases (
    address     text        PRIMARY KEY,
    instance_id text        NOT NULL UNIQUE,
    leased_at   timestamptz NOT NULL DEFAULT now()
);

-- The last heartbeat of each guest agent, kept by the conductor. Liveness, not history: only changes of
-- health become events; this row tells when a guest was last heard from.
CREATE TABLE guest_heartbeats (
    instance_id       text        PRIMARY KEY,
    last_seen         timestamptz NOT NULL,
    status            text        NOT NULL,
    role              text        NOT NULL,
    volume_used_bytes bigint      NOT NULL,
    server_version    text
);

-- The sagas of an instance, found by the instance id their SagaStarted names (`cellar events show`, tests).
CREATE INDEX events_saga_instance ON events ((data->>'instanceId')) WHERE event_type = 'SagaStarted';
