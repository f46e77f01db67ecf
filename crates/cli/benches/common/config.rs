//! The configuration of the benchmarks that only read a filled store.

use std::path::{Path, PathBuf};

/// `dir/pipeline.yaml` naming the database at `url` and logging into `dir/logs`; its path.
pub(crate) fn reading_config(dir: &Path, url: &str) -> PathBuf {
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            "database: {{ url: \"{url}\" }}\nlogging: {{ dir: \"{}\" }}\n",
            dir.join("logs").display()
        ),
    )
    .expect("write the benchmark's configuration");
    config
}
