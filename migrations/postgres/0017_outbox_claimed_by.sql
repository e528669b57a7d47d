-- Which replica holds an outbox call's claim: a live replica renews its
-- claims while the calls are in flight (short leases), and a restarted one
-- takes its own back at once instead of waiting for them to expire.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
