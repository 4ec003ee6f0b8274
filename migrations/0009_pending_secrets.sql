-- Secrets on their way to a guest (user and root passwords), sealed with AES-GCM under the key from
-- configuration. Written in the same transaction as the event that needs them; deleted once the guest has them.
-- The event log itself only records that a secret was set.
CREATE TABLE pending_secrets (
    stream_id  text        NOT NULL,
    name       text        NOT NULL,
    sealed     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, name)
);
