//! The schema migrations embedded in the binary, one [`Migrator`] per engine.
//!
//! Built at run time from the files `build.rs` lists, not with
//! `sqlx::migrate!`: that macro lives in sqlx's proc-macro crate, which
//! compiles SQLite's C sources and both drivers a second time for the host
//! on every clean build. Versions, descriptions and checksums are derived
//! exactly as sqlx derives them from a directory (a test compares the two),
//! so databases migrated by earlier builds validate unchanged.

use std::borrow::Cow;
use std::sync::LazyLock;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

mod files {
    include!(concat!(env!("OUT_DIR"), "/migration_files.rs"));
}

/// `migrations/sqlite/*.sql`.
pub(super) static SQLITE: LazyLock<Migrator> = LazyLock::new(|| embedded(files::SQLITE));
/// `migrations/postgres/*.sql`.
pub(super) static POSTGRES: LazyLock<Migrator> = LazyLock::new(|| embedded(files::POSTGRES));

fn embedded(files: &'static [(&'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(files.iter().map(|&(name, sql)| migration(name, sql)).collect())
}

/// One file as sqlx reads it: `<version>_<description>.sql`, underscores in
/// the description read as spaces, `-- no-transaction` on the first line
/// opting out of the transaction.
fn migration(file_name: &'static str, sql: &'static str) -> Migration {
    let (version, rest) = file_name
        .split_once('_')
        .unwrap_or_else(|| panic!("migration {file_name} is not named <version>_<description>.sql"));
    let version = version
        .parse()
        .unwrap_or_else(|_| panic!("migration {file_name} does not start with a number"));
    let migration_type = MigrationType::from_filename(rest);
    let description = rest.trim_end_matches(migration_type.suffix()).replace('_', " ");
    let no_tx = sql.starts_with("-- no-transaction");
    Migration::new(
        version,
        Cow::Owned(description),
        migration_type,
        sql.into_sql_str(),
        no_tx,
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// What sqlx itself reads from the directory (as `sqlx::migrate!` did).
    async fn from_directory(engine: &str) -> Migrator {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(engine);
        Migrator::new(dir).await.expect("sqlx reads the migrations directory")
    }

    fn identity(migrator: &Migrator) -> Vec<(i64, String, Vec<u8>, bool, String)> {
        migrator
            .iter()
            .map(|m| {
                let kind = format!("{:?}", m.migration_type);
                (m.version, m.description.to_string(), m.checksum.to_vec(), m.no_tx, kind)
            })
            .collect()
    }

    #[tokio::test]
    async fn the_embedded_migrations_are_what_sqlx_reads_from_the_directory() {
        for (engine, embedded) in [("sqlite", &*SQLITE), ("postgres", &*POSTGRES)] {
            let expected = identity(&from_directory(engine).await);
            assert!(expected.len() >= 22, "{engine}: {} migrations", expected.len());
            assert_eq!(identity(embedded), expected, "{engine}");
            assert_eq!(embedded.locking, from_directory(engine).await.locking);
        }
    }
}
