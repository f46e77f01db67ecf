//! `cargo xtask`: what cargo alone can't do. `test` runs every test against a throwaway
//! PostgreSQL, `lint` is fmt + clippy, `tidy` checks the crate layering.

mod pg;
mod tidy;

use std::{
    env,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task> [args]

tasks:
  test [cargo test args]   run the whole workspace's tests; starts a throwaway PostgreSQL
                           (or uses $TEST_DATABASE_URL) and always stops it
  lint                     cargo fmt --check and cargo clippy --all-targets -D warnings
  tidy                     check that crates depend only on the layers below them
  bench [storage|run|status]  release-build benchmarks against a throwaway PostgreSQL
                           (fsync on) and SQLite; prints Markdown tables
  pg                       start a throwaway PostgreSQL and wait (Ctrl-C stops it)";

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("test") => test(&rest),
        Some("lint") => lint(),
        Some("tidy") => {
            tidy::check(&workspace_root()).map(|()| println!("tidy: crate layering OK"))
        }
        Some("pg") => pg_forever(),
        Some("bench") => bench(&rest),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

fn in_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Installs a Ctrl-C handler so that the throwaway database is always stopped: the child
/// process gets the signal and ends, and we carry on to the cleanup.
fn survive_ctrl_c() {
    let _ = ctrlc::set_handler(|| eprintln!("xtask: interrupted; cleaning up"));
}

fn test(extra: &[String]) -> Result<()> {
    tidy::check(&workspace_root())?;
    survive_ctrl_c();
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .args(extra);
    if let Ok(url) = env::var("TEST_DATABASE_URL") {
        eprintln!("xtask: using TEST_DATABASE_URL from the environment");
        let _ = url;
        return run(&mut cmd);
    }
    match pg::Cluster::start()? {
        Some(cluster) => {
            eprintln!(
                "xtask: throwaway PostgreSQL {} at {}",
                cluster.version, cluster.url
            );
            cmd.env("TEST_DATABASE_URL", &cluster.url);
            let result = run(&mut cmd);
            drop(cluster);
            result
        }
        None => {
            let help = pg::install_help();
            if in_ci() {
                bail!(
                    "no PostgreSQL server binaries found, and CI=true requires the PostgreSQL tests\n{help}"
                );
            }
            eprintln!(
                "xtask: WARNING: no PostgreSQL server binaries found; the PostgreSQL half of the storage tests is skipped\n{help}"
            );
            run(&mut cmd)
        }
    }
}

fn bench(which: &[String]) -> Result<()> {
    const ALL: [&str; 3] = ["storage", "run", "status"];
    let chosen: Vec<&str> = if which.is_empty() {
        ALL.to_vec()
    } else {
        which.iter().map(String::as_str).collect()
    };
    if let Some(bad) = chosen.iter().find(|b| !ALL.contains(b)) {
        bail!("unknown benchmark `{bad}`; known: {}", ALL.join(", "));
    }
    survive_ctrl_c();
    let cluster = pg::Cluster::start_durable()?
        .ok_or_else(|| anyhow::anyhow!("the benchmarks need PostgreSQL\n{}", pg::install_help()))?;
    eprintln!(
        "xtask: benchmark PostgreSQL {} (default durability settings) at {}",
        cluster.version, cluster.url
    );
    for b in chosen {
        let package = match b {
            "storage" => "energy-storage",
            "run" | "status" => "cli",
            _ => unreachable!("checked above"),
        };
        run(cargo()
            .args(["bench", "--package", package, "--bench", b])
            .env("BENCH_DATABASE_URL", &cluster.url)
            .env("BENCH_PSQL", cluster.tool("psql")))?;
    }
    Ok(())
}

fn lint() -> Result<()> {
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    println!("lint: fmt and clippy clean");
    Ok(())
}

fn pg_forever() -> Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let Some(cluster) = pg::Cluster::start()? else {
        bail!(
            "no PostgreSQL server binaries found\n{}",
            pg::install_help()
        );
    };
    println!("TEST_DATABASE_URL={}", cluster.url);
    eprintln!(
        "xtask: PostgreSQL {} running; Ctrl-C stops it",
        cluster.version
    );
    let _ = rx.recv();
    drop(cluster);
    Ok(())
}
