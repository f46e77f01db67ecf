//! Scheduler replicas as processes on one PostgreSQL, for the chaos suite and the replica tests:
//! their configuration, and starting, killing, pausing, resuming and stopping them.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// What every replica shares: the binary, the database, the configuration and the secrets.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    pub(crate) binary: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) database_url: String,
    pub(crate) config: PathBuf,
    pub(crate) slack_webhook: String,
    /// More environment for every replica (configuration overrides).
    pub(crate) env: Vec<(String, String)>,
}

impl Fleet {
    /// Writes the replicas' configuration under `dir`: EIA, FRED and Yahoo at `upstream`
    /// (base URLs by provider), Slack notifications of every run, and a short retry.
    pub(crate) fn new(
        binary: PathBuf,
        dir: &Path,
        database_url: &str,
        upstream: [String; 3],
        slack_webhook: String,
    ) -> std::io::Result<Self> {
        let [eia, fred, yahoo] = upstream;
        let config = dir.join("pipeline.yaml");
        std::fs::write(
            &config,
            format!(
                "pipeline: {{ lookback_days: 200 }}\n\
                 retry: {{ max_attempts: 2, initial_backoff_seconds: 1, max_backoff_seconds: 1 }}\n\
                 sources:\n\
                 \x20 eia: {{ base_url: \"{eia}\", requests_per_second: 0 }}\n\
                 \x20 fred: {{ base_url: \"{fred}\", requests_per_second: 0 }}\n\
                 \x20 yahoo: {{ base_url: \"{yahoo}\", requests_per_second: 0 }}\n\
                 notifications:\n\
                 \x20 slack: {{ enabled: true, send_on_success: true, send_on_failure: true, send_on_partial: true }}\n"
            ),
        )?;
        Ok(Self {
            binary,
            dir: dir.to_path_buf(),
            database_url: database_url.to_owned(),
            config,
            slack_webhook,
            env: Vec::new(),
        })
    }

    /// Starts replica `index` on `cron`; its output goes to `replica-<index>.out` (appended
    /// across restarts) and its logs under `replica-<index>/`.
    pub(crate) fn start(&self, index: usize, cron: &str) -> std::io::Result<Replica> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("replica-{index}.out")))?;
        let child = Command::new(&self.binary)
            .args(["--config"])
            .arg(&self.config)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("EIA_API_KEY", "chaos-key-eia")
            .env("FRED_API_KEY", "chaos-key-fred")
            .env("SLACK_WEBHOOK_URL", &self.slack_webhook)
            .env("PIPELINE_SCHEDULE__CRON", format!("\"{cron}\""))
            .env("PIPELINE_SCHEDULE__LISTEN", "\"127.0.0.1:0\"")
            .env(
                "PIPELINE_LOGGING__DIR",
                format!(
                    "\"{}\"",
                    self.dir.join(format!("replica-{index}")).display()
                ),
            )
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        Ok(Replica {
            index,
            pid: child.id(),
            child: Some(child),
            paused: false,
            exited: None,
        })
    }
}

/// One replica process.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) index: usize,
    pub(crate) pid: u32,
    child: Option<Child>,
    pub(crate) paused: bool,
    /// How its process ended when it ended on its own (seen by [`Replica::running`]), and when.
    exited: Option<(std::process::ExitStatus, Instant)>,
}

fn signal(pid: u32, name: &str) -> std::io::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "kill -{name} {pid}: {status}"
        )))
    }
}

impl Replica {
    /// Whether its process is running (paused or not).
    pub(crate) fn running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(status))) => {
                if self.exited.is_none() {
                    self.exited = Some((status, Instant::now()));
                }
                false
            }
            _ => false,
        }
    }

    /// Running and not paused.
    pub(crate) fn healthy(&mut self) -> bool {
        !self.paused && self.running()
    }

    /// SIGKILL, and reaps the process so that it is gone from this host at once.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// SIGSTOP: the process stays, its heartbeat stops.
    pub(crate) fn pause(&mut self) -> std::io::Result<()> {
        signal(self.pid, "STOP")?;
        self.paused = true;
        Ok(())
    }

    /// SIGCONT.
    pub(crate) fn resume(&mut self) -> std::io::Result<()> {
        if self.paused {
            signal(self.pid, "CONT")?;
            self.paused = false;
        }
        Ok(())
    }

    /// SIGTERM (resumed first when paused), waiting up to `within` for a clean stop; then
    /// SIGKILL. Returns why it did not stop cleanly, if it did not.
    pub(crate) fn stop(&mut self, within: Duration) -> Result<(), String> {
        let _ = self.resume();
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some((status, at)) = self.exited {
            return Err(format!(
                "it had ended on its own ({status}), {:?} before the end of the round",
                at.elapsed()
            ));
        }
        if let Err(e) = signal(self.pid, "TERM") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e.to_string());
        }
        let deadline = Instant::now() + within;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("it ended with {status}")),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("not stopped within {within:?} ({other:?}): killed"));
                }
            }
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.resume();
        self.kill();
    }
}
