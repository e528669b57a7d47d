//! The Sqlite [`UnitOfWork`]: everything one command changes, in one transaction.

use async_trait::async_trait;
use sqlx::{Sqlite, Transaction};

use crate::store::{StoreResult, UnitOfWork};

pub(super) struct SqliteUnitOfWork {
    pub(super) tx: Transaction<'static, Sqlite>,
}

impl super::super::sql::InTransaction for SqliteUnitOfWork {
    fn conn(&mut self) -> super::super::sql::Conn<'_> {
        super::super::sql::Conn::Sqlite(&mut self.tx)
    }
}

#[async_trait]
impl UnitOfWork for SqliteUnitOfWork {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
