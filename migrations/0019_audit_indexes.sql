-- The audit trail's filters over a large log (cellar bench log: 10^6 events).
-- "An instance with its sagas": the sagas an instance's events started, by their trigger stream.
CREATE INDEX events_saga_trigger ON events ((data ->> 'triggerStream')) WHERE event_type = 'SagaStarted';
-- "One user's events", in position order; only events a person caused (the services' many are not indexed).
CREATE INDEX events_by_actor ON events ((metadata -> 'actor' ->> 'user_id'), global_position) WHERE metadata ? 'actor';
