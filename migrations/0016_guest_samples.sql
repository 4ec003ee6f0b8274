-- Figures the guests report with their heartbeats, kept for an hour for the console's plots: client
-- sessions, the transaction counter (a rate is the difference of two samples), data directory size, and
-- a standby's replication lag (reported by its primary). At most one sample per instance and figure every
-- few seconds; the conductor deletes what is older than an hour.
CREATE TABLE guest_samples (
    instance_id text NOT NULL,
    figure text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    value float8 NOT NULL,
    PRIMARY KEY (instance_id, figure, at)
);
