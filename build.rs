//! Lists the SQL files under `migrations/<engine>/` so `store::migrations`
//! can embed them with `include_str!` (instead of `sqlx::migrate!`, whose
//! proc-macro crate compiles SQLite and both drivers a second time).

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut generated = String::new();
    for (constant, engine) in [("SQLITE", "sqlite"), ("POSTGRES", "postgres")] {
        let dir = Path::new(&root).join("migrations").join(engine);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<String> = fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
            .map(|entry| {
                entry
                    .expect("a readable directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        writeln!(generated, "pub(super) const {constant}: &[(&str, &str)] = &[").unwrap();
        for file in files {
            let path = dir.join(&file);
            writeln!(
                generated,
                "    ({file:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        writeln!(generated, "];").unwrap();
    }
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migration_files.rs");
    fs::write(out, generated).expect("writing the migration list");
}
