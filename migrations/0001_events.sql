-- The event log: the single source of truth. Append-only; read models are projections of it.
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id       text        NOT NULL CHECK (length(stream_id) BETWEEN 1 AND 200),
    stream_version  int         NOT NULL CHECK (stream_version > 0),
    event_type      text        NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
    data            jsonb       NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    metadata        jsonb       NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The writing transaction: readers order by (tx_id, global_position) and read only below the oldest
    -- running transaction, so an event that commits late is never skipped.
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_log_order ON events (tx_id, global_position);
CREATE INDEX events_by_type ON events (event_type, global_position);
CREATE INDEX events_recorded_at ON events (recorded_at);
