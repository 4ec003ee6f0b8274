-- Where each projection stands in the log; written in the same transaction as the projection's rows.
CREATE TABLE projection_checkpoints (
    name            text        PRIMARY KEY,
    tx_id           xid8        NOT NULL,
    global_position bigint      NOT NULL,
    updated_at      timestamptz NOT NULL
);
