-- Members of the user groups named in `[permissions] admins`, as Slack's
-- usergroups.users.list last reported them (refreshed every few minutes).
CREATE TABLE usergroup_members (
    usergroup_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    PRIMARY KEY (usergroup_id, user_id)
);
CREATE INDEX usergroup_members_user ON usergroup_members (user_id);
