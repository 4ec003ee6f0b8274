-- Which task manager runs the sagas of which subject (an instance's or a cluster's stream). A task manager takes
-- a subject's lease before it queues a saga of it, confirms it before every step it records and renews all of
-- its leases while it lives; it gives a lease up once it has no saga of that subject left. A lease whose owner
-- died expires, and another task manager resumes the subject's open sagas from the log; a live owner's lease
-- is never taken over, so no step is run by two owners and a subject's sagas still run one after another.
CREATE TABLE saga_leases (
    subject    text        PRIMARY KEY,
    owner      text        NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX saga_leases_by_owner ON saga_leases (owner);
