-- What Slack told Rebound about the channels it works in: whether each is
-- private (conversations.info) and, for private ones, who is in it
-- (conversations.members, kept current from member_joined_channel and
-- member_left_channel). Only members may see what a private channel said.
CREATE TABLE channels (
    channel_id TEXT PRIMARY KEY,
    is_private BOOLEAN NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE channel_members (
    channel_id TEXT NOT NULL REFERENCES channels (channel_id),
    user_id    TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members (user_id);
