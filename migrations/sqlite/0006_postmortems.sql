-- Post-mortem follow-up: when it was marked done, and where it lives.
ALTER TABLE incidents ADD COLUMN postmortem_done_at INTEGER;
ALTER TABLE incidents ADD COLUMN postmortem_link TEXT;
