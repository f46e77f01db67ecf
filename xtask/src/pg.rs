//! The database servers tests and benchmarks run against: a plain PostgreSQL and a PostgreSQL
//! with TimescaleDB preloaded (the extension installed from `../shared/timescaledb` when it is
//! not yet), each a throwaway cluster unless the environment names one. With `CI=true` a
//! server that could be had but could not be started fails the task; a machine without
//! TimescaleDB gets one line saying so and the rest of the tests.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Result, bail};

use crate::{
    cluster::{Cluster, ClusterOptions, find_bin_dir, install_help},
    in_ci, workspace_root,
};

/// Tests want speed (no fsync, many connections); benchmarks PostgreSQL's default durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Tests,
    Benchmarks,
}

/// A server URL, and the cluster behind it when we started it.
struct Server {
    url: String,
    _cluster: Option<Cluster>,
}

impl Server {
    /// The server named by `variable`, for tests (benchmarks always start their own).
    fn given(variable: &str, purpose: Purpose) -> Option<Self> {
        let url = env::var(variable)
            .ok()
            .filter(|u| !u.is_empty() && purpose == Purpose::Tests)?;
        eprintln!("xtask: using {variable} from the environment");
        Some(Self {
            url,
            _cluster: None,
        })
    }

    /// A cluster we started (`what` says what it has beyond PostgreSQL).
    fn started(cluster: Cluster, what: &str) -> Self {
        eprintln!(
            "xtask: throwaway PostgreSQL {}{what} at {}",
            cluster.version, cluster.url
        );
        Self {
            url: cluster.url.clone(),
            _cluster: Some(cluster),
        }
    }
}

pub(crate) struct Servers {
    plain: Option<Server>,
    timescaledb: Option<Server>,
}

impl Servers {
    pub(crate) fn start(purpose: Purpose) -> Result<Self> {
        let plain = Self::plain(purpose)?;
        let timescaledb = Self::timescaledb(purpose)?;
        Ok(Self { plain, timescaledb })
    }

    pub(crate) fn plain_url(&self) -> Option<&str> {
        self.plain.as_ref().map(|s| s.url.as_str())
    }

    pub(crate) fn timescaledb_url(&self) -> Option<&str> {
        self.timescaledb.as_ref().map(|s| s.url.as_str())
    }

    /// Sets `<PREFIX>_DATABASE_URL`, `<PREFIX>_TIMESCALEDB_URL` and (benchmarks) `BENCH_PSQL`.
    pub(crate) fn apply(&self, cmd: &mut Command, prefix: &str) {
        if let Some(url) = self.plain_url() {
            cmd.env(format!("{prefix}_DATABASE_URL"), url);
        }
        if let Some(url) = self.timescaledb_url() {
            cmd.env(format!("{prefix}_TIMESCALEDB_URL"), url);
        }
        if let Some(bin) = find_bin_dir() {
            cmd.env("BENCH_PSQL", bin.join("psql"));
        }
    }

    fn settings(purpose: Purpose) -> Vec<String> {
        match purpose {
            Purpose::Tests => vec![
                "-c fsync=off".into(),
                "-c synchronous_commit=off".into(),
                "-c full_page_writes=off".into(),
            ],
            Purpose::Benchmarks => Vec::new(),
        }
    }

    fn plain(purpose: Purpose) -> Result<Option<Server>> {
        if let Some(given) = Server::given("TEST_DATABASE_URL", purpose) {
            return Ok(Some(given));
        }
        let mut settings = Self::settings(purpose);
        // the suites open many stores in parallel
        settings.push("-c max_connections=300".into());
        let options = ClusterOptions {
            settings,
            label: "plain".into(),
            ..ClusterOptions::default()
        };
        match Cluster::start(&options).map_err(anyhow::Error::msg)? {
            Some(cluster) => Ok(Some(Server::started(cluster, ""))),
            None => {
                let help = install_help();
                if in_ci() {
                    bail!(
                        "no PostgreSQL server binaries found, and CI=true requires the PostgreSQL tests\n{help}"
                    );
                }
                eprintln!(
                    "xtask: WARNING: no PostgreSQL server binaries found; the PostgreSQL parts of the tests are skipped\n{help}"
                );
                Ok(None)
            }
        }
    }

    fn timescaledb(purpose: Purpose) -> Result<Option<Server>> {
        if let Some(given) = Server::given("TEST_TIMESCALEDB_URL", purpose) {
            return Ok(Some(given));
        }
        let Some(bin) = find_bin_dir() else {
            return Ok(None); // said above
        };
        if let Err(why) = ensure_installed(&bin) {
            if in_ci() && why.could_have {
                bail!(
                    "TimescaleDB could be installed here but was not ({}), and CI=true requires the TimescaleDB suite",
                    why.reason
                );
            }
            eprintln!(
                "xtask: TimescaleDB is not available ({}); the TimescaleDB suite is skipped",
                why.reason
            );
            return Ok(None);
        }
        // PostgreSQL's default max_connections and lock table: the TimescaleDB tests prove the
        // store needs no special server settings
        let mut settings = Self::settings(purpose);
        settings.push("-c shared_preload_libraries=timescaledb".into());
        let options = ClusterOptions {
            settings,
            label: "timescaledb".into(),
            ..ClusterOptions::default()
        };
        let started = Cluster::start(&options)
            .map_err(anyhow::Error::msg)
            .and_then(|c| c.ok_or_else(|| anyhow::anyhow!("no PostgreSQL binaries")))
            .and_then(|cluster| {
                let out = Command::new(cluster.tool("psql"))
                    .args([
                        "-X",
                        "-q",
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-d",
                        &cluster.url,
                        "-c",
                    ])
                    .arg("CREATE EXTENSION IF NOT EXISTS timescaledb")
                    .output()?;
                if !out.status.success() {
                    bail!(
                        "CREATE EXTENSION timescaledb failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                Ok(cluster)
            });
        match started {
            Ok(cluster) => Ok(Some(Server::started(cluster, " with TimescaleDB"))),
            Err(e) if in_ci() => Err(e.context("the TimescaleDB cluster did not start")),
            Err(e) => {
                eprintln!(
                    "xtask: WARNING: the TimescaleDB cluster did not start ({e:#}); the TimescaleDB suite is skipped"
                );
                Ok(None)
            }
        }
    }
}

/// Why TimescaleDB cannot be used, and whether it could have been (its build is at hand).
struct Unavailable {
    reason: String,
    could_have: bool,
}

/// Whether the TimescaleDB extension is installed for the PostgreSQL in `bin`; installs it
/// from `../shared/timescaledb` when that is there.
fn ensure_installed(bin: &Path) -> Result<(), Unavailable> {
    let pg_config = bin.join("pg_config");
    let dir = |flag: &str| -> Option<PathBuf> {
        let out = Command::new(&pg_config).arg(flag).output().ok()?;
        out.status
            .success()
            .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    };
    let installed = || {
        matches!(
            (dir("--pkglibdir"), dir("--sharedir")),
            (Some(lib), Some(share))
                if lib.join("timescaledb.so").is_file()
                    && share.join("extension/timescaledb.control").is_file()
        )
    };
    if installed() {
        return Ok(());
    }
    let script = workspace_root().join("../shared/timescaledb/install.sh");
    if !script.is_file() {
        return Err(Unavailable {
            reason: "not installed for this PostgreSQL; see the README's TimescaleDB section"
                .into(),
            could_have: false,
        });
    }
    let out = Command::new("sh")
        .arg(&script)
        .env("PG_CONFIG", &pg_config)
        .output()
        .map_err(|e| Unavailable {
            reason: format!("cannot run {}: {e}", script.display()),
            could_have: true,
        })?;
    let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if out.status.success() && installed() {
        eprintln!("xtask: {}", String::from_utf8_lossy(&out.stdout).trim());
        return Ok(());
    }
    // the build exists but does not fit this server (another major version, another CPU):
    // that is no failure of this machine
    let fits = !said.contains("this build is for");
    Err(Unavailable {
        reason: format!("{} failed: {said}", script.display()),
        could_have: fits,
    })
}
