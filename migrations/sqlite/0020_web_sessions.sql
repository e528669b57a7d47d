-- Sign in with Slack: a login in progress (its `state` and `nonce`, for ten
-- minutes), and signed-in sessions, stored by the hash of their cookie so a
-- database dump holds no usable session; revoked or expired ones are refused.
CREATE TABLE web_logins (
    state      TEXT    PRIMARY KEY,
    nonce      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE web_sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    team_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
