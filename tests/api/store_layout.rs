//! The store's shape, kept by tests rather than by memory: one definition
//! of each query for both engines, in a module per aggregate small enough
//! to read in one sitting. A query written twice starts as a query in an
//! engine's folder, and a catch-all module starts as a long file; both
//! fail here first.

use std::path::{Path, PathBuf};

/// "No store file over ~300 lines" (issue #10), made exact.
const MAX_LINES: usize = 300;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the store's source folder is readable") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn store_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("store")
}

#[test]
fn every_store_module_stays_under_three_hundred_lines() {
    let files = rust_files(&store_dir());
    assert!(files.len() >= 20, "the store's modules were not found: {files:?}");
    let long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).expect("readable").lines().count();
            (lines > MAX_LINES).then(|| format!("{} has {lines} lines", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by aggregate or concern (at most {MAX_LINES} lines each): {long:?}"
    );
}

/// The engines keep connecting, pragmas, the single writer and migrating;
/// a statement on the application's tables there would be a query written
/// for one engine only.
#[test]
fn the_engine_folders_run_no_query_of_an_aggregate() {
    let statement = ["\"SELECT", "\"INSERT", "\"UPDATE", "\"DELETE", "\"WITH"];
    let mut found = Vec::new();
    for engine in ["sqlite", "postgres"] {
        let files = rust_files(&store_dir().join(engine));
        assert!(!files.is_empty(), "no files for the {engine} engine");
        for path in files {
            let text = std::fs::read_to_string(&path).expect("readable");
            for (number, line) in text.lines().enumerate() {
                if statement.iter().any(|start| line.to_uppercase().contains(start)) {
                    found.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "write these once in the aggregate's module (src/store/<aggregate>.rs) for both engines: {found:?}"
    );
}
