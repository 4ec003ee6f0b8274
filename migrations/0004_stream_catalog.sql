-- Read model: one row per stream (written only by the stream_catalog projection).
CREATE TABLE stream_catalog (
    stream_id         text        PRIMARY KEY,
    category          text        NOT NULL,
    version           int         NOT NULL,
    last_event_type   text        NOT NULL,
    first_recorded_at timestamptz NOT NULL,
    last_recorded_at  timestamptz NOT NULL
);

CREATE INDEX stream_catalog_by_category ON stream_catalog (category, last_recorded_at);
