-- Messages a consumer has handled, recorded in the same transaction as the handler's effects, so a
-- redelivered message changes nothing.
CREATE TABLE inbox (
    consumer   text        NOT NULL,
    message_id text        NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
