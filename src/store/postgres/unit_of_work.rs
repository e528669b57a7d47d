//! The Postgres [`UnitOfWork`]: everything one command changes, in one transaction.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use crate::store::{StoreResult, UnitOfWork};

pub(super) struct PostgresUnitOfWork {
    pub(super) tx: Transaction<'static, Postgres>,
}

impl super::super::sql::InTransaction for PostgresUnitOfWork {
    fn conn(&mut self) -> super::super::sql::Conn<'_> {
        super::super::sql::Conn::Postgres(&mut self.tx)
    }
}

#[async_trait]
impl UnitOfWork for PostgresUnitOfWork {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
