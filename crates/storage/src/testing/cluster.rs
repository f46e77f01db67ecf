//! A throwaway PostgreSQL cluster: initdb into a temporary directory, start on a free port with
//! the settings and files asked for, stop and delete on drop. Runs the server as an
//! unprivileged user when we are root, because initdb and postgres refuse to run as root.
//!
//! Standard library only: `cargo xtask` compiles this same file (`#[path]`) for its test and
//! benchmark clusters, and the storage tests use it for clusters of their own (TLS).

use std::{
    env, fs,
    net::TcpListener,
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// What a cluster starts with beyond initdb's defaults.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Extra server settings, as `-c name=value` words for `postgres`.
    pub settings: Vec<String>,
    /// Files written into the data directory before the server starts, readable only by the
    /// server (certificates and keys).
    pub files: Vec<(String, Vec<u8>)>,
    /// Replaces `pg_hba.conf`.
    pub hba: Option<String>,
    /// A name for the directory, to tell clusters of one process apart.
    pub label: String,
}

#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    owner: Option<(u32, u32)>,
    pub port: u16,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
    pub version: String,
}

/// What to install when no server is found.
pub fn install_help() -> String {
    "  install the PostgreSQL server, e.g.\n    Debian/Ubuntu: sudo apt-get install postgresql\n    Fedora:        sudo dnf install postgresql-server\n    macOS:         brew install postgresql@16\n  or point TEST_DATABASE_URL at a server you may create databases on, e.g.\n    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo xtask test".to_owned()
}

/// The directory holding initdb, pg_ctl and postgres, if any.
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|t| d.join(t).is_file())
    };
    // 1. on PATH (following a symlink back to the real directory, where `postgres` lives too)
    if let Some(path) = env::var_os("PATH") {
        for dir in env::split_paths(&path) {
            let initdb = dir.join("initdb");
            let real = fs::canonicalize(&initdb).ok();
            if let Some(parent) = real
                .as_deref()
                .and_then(Path::parent)
                .filter(|d| has_tools(d))
            {
                return Some(parent.to_path_buf());
            }
        }
    }
    // 2. pg_config --bindir
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_tools(&dir) {
            return Some(dir);
        }
    }
    // 3. Debian's layout, newest version first
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_tools(d))
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, d)| d)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// uid and gid of an unprivileged user to run the server as: `nobody`, or a system user we
/// create (`energy-pg`) when there is no `nobody`.
fn unprivileged_user() -> Result<(u32, u32), String> {
    let lookup = |name: &str| -> Option<(u32, u32)> {
        let passwd = fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name) && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
    };
    if let Some(ids) = lookup("nobody") {
        return Ok(ids);
    }
    let status = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "energy-pg",
        ])
        .status();
    if let Some(ids) = lookup("energy-pg") {
        return Ok(ids);
    }
    Err(format!(
        "running as root, and no unprivileged user to run PostgreSQL as (useradd: {status:?})"
    ))
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr()
        .map_err(|e| format!("no free port: {e}"))?
        .port())
}

impl Cluster {
    /// Starts a cluster, or returns `Ok(None)` when no PostgreSQL binaries are installed.
    pub fn start(options: &ClusterOptions) -> Result<Option<Self>, String> {
        let Some(bin) = find_bin_dir() else {
            return Ok(None);
        };
        let version = Command::new(bin.join("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let dir = env::temp_dir().join(format!(
            "energy-pg-{}-{}{}",
            std::process::id(),
            options.label,
            unique()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let owner = if is_root() {
            let (uid, gid) = unprivileged_user()?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot hand the data directory to the server user: {e}"))?;
            Some((uid, gid))
        } else {
            None
        };
        let mut cluster = Cluster {
            bin,
            dir,
            owner,
            port: 0,
            url: String::new(),
            version,
        };
        let data = cluster.dir.join("data");
        let log = cluster.dir.join("server.log");
        cluster
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .run_ok("initdb")?;
        for (name, bytes) in &options.files {
            cluster.write_server_file(&data.join(name), bytes)?;
        }
        if let Some(hba) = &options.hba {
            cluster.write_server_file(&data.join("pg_hba.conf"), hba.as_bytes())?;
        }
        let port = free_port()?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 {}",
            cluster.dir.display(),
            options.settings.join(" ")
        );
        let started = cluster
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(&log)
            .args(["-w", "-t", "60", "start"])
            .stdout(Stdio::null())
            .run_ok("pg_ctl start");
        if let Err(e) = started {
            return Err(format!(
                "{e}\nserver log:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        cluster.port = port;
        cluster.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(Some(cluster))
    }

    /// Path of a client tool (psql, pg_config, …) next to the server binaries.
    pub fn tool(&self, name: &str) -> PathBuf {
        let local = self.bin.join(name);
        if local.is_file() {
            local
        } else {
            PathBuf::from(name)
        }
    }

    /// Restarts the server (a fast shutdown: sessions are ended, as in a real restart) and
    /// waits until it accepts connections again on the same port.
    pub fn restart(&self) -> Result<(), String> {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "-t", "60", "-l"])
            .arg(self.dir.join("server.log"))
            .arg("restart")
            .stdout(Stdio::null())
            .run_ok("pg_ctl restart")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn write_server_file(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        cmd.current_dir(&self.dir).env_remove("PGDATA");
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }
}

fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

trait RunOk {
    fn run_ok(&mut self, what: &str) -> Result<(), String>;
}

impl RunOk for Command {
    fn run_ok(&mut self, what: &str) -> Result<(), String> {
        let out = self
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{what} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let stopped = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .run_ok("pg_ctl stop");
        if let Err(e) = stopped {
            eprintln!("warning: {e}");
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}
