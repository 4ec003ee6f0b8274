-- Active-passive members report their replication state (role, timeline, WAL positions, synchronous
-- standbys) with each heartbeat: the failover decision reads the lost primary's last one.
ALTER TABLE guest_heartbeats ADD COLUMN replication jsonb;
