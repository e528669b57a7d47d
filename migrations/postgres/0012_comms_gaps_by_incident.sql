-- Post-mortems and metrics read an incident's update gaps.
CREATE INDEX comms_gaps_incident ON comms_gaps (incident_id, at);
