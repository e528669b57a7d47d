//! Action items: where an incident's follow-up work is saved, completed,
//! reassigned and found overdue, for both engines.

use chrono::{DateTime, Utc};

use super::StoreResult;
use super::sql::{Row, query};
use super::{Store, UnitOfWork};
use crate::domain::IncidentId;
use crate::domain::lifecycle::ActionItem;

/// A stored action item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredActionItem {
    pub id: i64,
    pub incident_id: IncidentId,
    pub text: String,
    pub owner: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The Jira issue it was exported to, once Jira answered.
    pub jira: Option<IssueLink>,
}

/// An issue in another tracker: its key and where to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueLink {
    pub key: String,
    pub url: String,
}

macro_rules! select {
    ($condition:literal) => {
        concat!(
            "SELECT id, incident_id, body, owner, due_at, created_by, created_at, done_at, issue_key, issue_url \
             FROM action_items LEFT JOIN jira_issues ON subject = 'action:' || id ",
            $condition
        )
    };
}

fn from_row(row: &Row) -> StoreResult<StoredActionItem> {
    Ok(StoredActionItem {
        id: row.int("id")?,
        incident_id: row.int("incident_id")?,
        text: row.text("body")?,
        owner: row.opt_text("owner")?,
        due_at: row.opt_time("due_at")?,
        created_by: row.text("created_by")?,
        created_at: row.time("created_at")?,
        done_at: row.opt_time("done_at")?,
        jira: issue_link(row)?,
    })
}

/// The issue a row's `issue_key` and `issue_url` name, once Jira answered.
pub(super) fn issue_link(row: &Row) -> StoreResult<Option<IssueLink>> {
    Ok(match (row.opt_text("issue_key")?, row.opt_text("issue_url")?) {
        (Some(key), Some(url)) => Some(IssueLink { key, url }),
        _ => None,
    })
}

impl Store {
    /// An incident's action items, oldest first.
    pub async fn action_items(&self, id: IncidentId) -> StoreResult<Vec<StoredActionItem>> {
        let q = query(select!("WHERE incident_id = $1 ORDER BY id")).bind(id);
        self.read_all(q, from_row).await
    }

    /// Open action items whose due date has passed, most overdue first.
    pub async fn overdue_action_items(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoredActionItem>> {
        let q = query(select!("WHERE done_at IS NULL AND due_at < $1 ORDER BY due_at"));
        self.read_all(q.bind(now), from_row).await
    }
}

impl UnitOfWork {
    pub async fn insert_action_item(
        &mut self,
        incident_id: IncidentId,
        item: &ActionItem,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let q = query(
            "INSERT INTO action_items (incident_id, body, owner, due_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(incident_id)
        .bind(item.text.as_str())
        .bind(item.owner.as_deref())
        .bind(item.due_at)
        .bind(created_by)
        .bind(now);
        let id = self.conn().map_optional(q, |r| r.int("id")).await?;
        id.ok_or_else(|| super::StoreError::Corrupt("INSERT … RETURNING gave no id".into()))
    }

    pub async fn action_item(&mut self, id: i64) -> StoreResult<Option<StoredActionItem>> {
        let q = query(select!("WHERE id = $1")).bind(id);
        self.conn().map_optional(q, from_row).await
    }

    /// Marks an action item done; false when it already was.
    pub async fn complete_action_item(&mut self, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let q = query("UPDATE action_items SET done_at = $1 WHERE id = $2 AND done_at IS NULL");
        Ok(self.conn().execute(q.bind(now).bind(id)).await? > 0)
    }

    pub async fn reassign_action_item(&mut self, id: i64, owner: &str) -> StoreResult<()> {
        let q = query("UPDATE action_items SET owner = $1 WHERE id = $2");
        self.conn().run(q.bind(owner).bind(id)).await
    }
}
