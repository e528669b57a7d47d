//! Jira issues exported from action items and failure tickets: which were
//! asked for (once each), and the key and URL Jira gave them.

use chrono::{DateTime, Utc};

use super::action_items::issue_link as link;
use super::sql::{Row, query};
use super::{IssueLink, Store, StoreResult, UnitOfWork};
use crate::domain::jira::Subject;

const SELECT: &str = "SELECT issue_key, issue_url FROM jira_issues WHERE subject = $1";

impl Store {
    /// The issue `subject` was exported to, once Jira answered.
    pub async fn jira_issue(&self, subject: Subject) -> StoreResult<Option<IssueLink>> {
        Ok(self.read_one(query(SELECT).bind(subject.key()), link).await?.flatten())
    }
}

impl UnitOfWork {
    /// Records that `subject` is to be exported; false when it already was.
    pub async fn request_jira_export(&mut self, subject: Subject, now: DateTime<Utc>) -> StoreResult<bool> {
        let q = query(
            "INSERT INTO jira_issues (subject, label, requested_at) VALUES ($1, $2, $3) \
             ON CONFLICT (subject) DO NOTHING",
        );
        let inserted = self
            .conn()
            .execute(q.bind(subject.key()).bind(subject.label()).bind(now))
            .await?;
        Ok(inserted == 1)
    }

    /// The issue `subject` was exported to, in this transaction.
    pub async fn jira_issue(&mut self, subject: Subject) -> StoreResult<Option<IssueLink>> {
        Ok(self
            .conn()
            .map_optional(query(SELECT).bind(subject.key()), link)
            .await?
            .flatten())
    }

    /// What was exported to the Jira issue `key`, if Rebound made it.
    pub async fn jira_subject(&mut self, key: &str) -> StoreResult<Option<Subject>> {
        let q = query("SELECT subject FROM jira_issues WHERE issue_key = $1");
        let subject = |row: &Row| Ok(Subject::parse(&row.text("subject")?));
        Ok(self.conn().map_optional(q.bind(key), subject).await?.flatten())
    }

    /// Keeps the issue Jira made for `subject`.
    pub async fn set_jira_issue(&mut self, subject: Subject, issue: &IssueLink) -> StoreResult<()> {
        let q = query("UPDATE jira_issues SET issue_key = $1, issue_url = $2 WHERE subject = $3");
        self.conn()
            .run(q.bind(issue.key.as_str()).bind(issue.url.as_str()).bind(subject.key()))
            .await
    }
}
