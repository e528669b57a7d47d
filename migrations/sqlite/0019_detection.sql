-- Detection timestamps: when the impact began (an alert's own start, or
-- what a responder set with `/incident started`), who says so, and when
-- Rebound first heard of it (for hand-declared incidents, the declaration).
ALTER TABLE incidents ADD COLUMN impact_started_at INTEGER;
ALTER TABLE incidents ADD COLUMN impact_source TEXT;
ALTER TABLE incidents ADD COLUMN detected_at INTEGER;
UPDATE incidents SET detected_at = declared_at;

-- Whether the incident channel has been told an alert joined: joins are
-- summarised at most once per `[intake] summary_every`, so a storm of
-- separate deliveries is one post a minute, not one per alert.
ALTER TABLE alerts ADD COLUMN announced INTEGER NOT NULL DEFAULT 1;
