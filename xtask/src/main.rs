//! `cargo xtask`: what cargo alone can't do. `test` runs every test against throwaway
//! PostgreSQL clusters (plain, and with TimescaleDB where it can be had), `lint` is fmt +
//! clippy, `tidy` checks the crate layering, module cycles and where provider key variables
//! are named.

// The cluster code is shared with the storage tests (which start TLS clusters of their own);
// it is std-only so that xtask stays free of the workspace's dependencies.
// the same file is public API of energy-storage::testing: its `pub` stays
#[allow(unreachable_pub)]
#[path = "../../crates/storage/src/testing/cluster.rs"]
#[allow(dead_code)] // what only the storage tests use
mod cluster;
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
                           (or uses $TEST_DATABASE_URL) and one with TimescaleDB (or uses
                           $TEST_TIMESCALEDB_URL; installs ../shared/timescaledb when it is
                           there) and always stops them
  lint                     cargo fmt --check and cargo clippy --all-targets -D warnings
  tidy                     check the crate layering, that no modules of a crate import each
                           other in a circle, and that only sources names provider key variables
  bench [storage|run|status|web]  release-build benchmarks against throwaway PostgreSQL and
                           TimescaleDB clusters (default durability) and SQLite; prints
                           Markdown tables
  chaos [--replicas N] [--fires M] [--seed S] [--rate P] [--release]
                           N energy-scheduler replicas (3) on a throwaway PostgreSQL, a
                           2-second cron, M fire times (60) under seeded faults (kills,
                           pauses, terminated sessions, PostgreSQL restarts, upstream errors
                           and slow answers), then a check of every fire time; prints the
                           figures, exit 1 on any breach
  pg                       start the throwaway clusters and wait (Ctrl-C stops them)";

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let result = match task.as_deref() {
        Some("test") => test(&rest),
        Some("lint") => lint(),
        Some("tidy") => tidy::check(&workspace_root()).map(|()| {
            println!("tidy: crate layering, module cycles, provider key variables, file sizes OK")
        }),
        Some("pg") => pg_forever(),
        Some("bench") => bench(&rest),
        Some("chaos") => chaos(&rest),
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
    let servers = pg::Servers::start(pg::Purpose::Tests)?;
    servers.apply(&mut cmd, "TEST");
    let result = run(&mut cmd);
    drop(servers);
    result
}

fn bench(which: &[String]) -> Result<()> {
    const ALL: [&str; 5] = ["storage", "run", "status", "web", "export"];
    let chosen: Vec<&str> = if which.is_empty() {
        ALL.to_vec()
    } else {
        which.iter().map(String::as_str).collect()
    };
    if let Some(bad) = chosen.iter().find(|b| !ALL.contains(b)) {
        bail!("unknown benchmark `{bad}`; known: {}", ALL.join(", "));
    }
    survive_ctrl_c();
    let servers = pg::Servers::start(pg::Purpose::Benchmarks)?;
    if servers.plain_url().is_none() {
        bail!(
            "the benchmarks need PostgreSQL\n{}",
            cluster::install_help()
        );
    }
    for b in chosen {
        let package = match b {
            "storage" => "energy-storage",
            "run" | "status" | "web" | "export" => "cli",
            _ => unreachable!("checked above"),
        };
        let mut cmd = cargo();
        cmd.args(["bench", "--package", package, "--bench", b]);
        servers.apply(&mut cmd, "BENCH");
        run(&mut cmd)?;
    }
    Ok(())
}

/// Builds the scheduler and the chaos suite (`crates/scheduler/examples/chaos`) and runs it;
/// the suite starts its own PostgreSQL, replay server, Slack stand-in and replicas.
fn chaos(args: &[String]) -> Result<()> {
    survive_ctrl_c();
    let release = args.iter().any(|a| a == "--release");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "--release").collect();
    let mut build = cargo();
    if release {
        build.args([
            "build",
            "--release",
            "--package",
            "scheduler",
            "--bin",
            "energy-scheduler",
            "--example",
            "chaos",
        ]);
    } else {
        // the workspace's features, as `cargo xtask test` built them: after the tests this
        // reuses their build instead of building the scheduler's crates again
        build.args(["build", "--workspace", "--bins", "--examples"]);
    }
    run(&mut build)?;
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                workspace_root().join(t)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
        .join(if release { "release" } else { "debug" });
    run(Command::new(target.join("examples").join("chaos"))
        .arg("--scheduler")
        .arg(target.join("energy-scheduler"))
        .args(rest))
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
    // the crates' documentation: every link resolves, every example compiles (they run in test)
    run(cargo()
        .args(["doc", "--workspace", "--no-deps", "--quiet"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    println!("lint: fmt, clippy and doc clean");
    Ok(())
}

fn pg_forever() -> Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let servers = pg::Servers::start(pg::Purpose::Tests)?;
    if let Some(url) = servers.plain_url() {
        println!("TEST_DATABASE_URL={url}");
    }
    if let Some(url) = servers.timescaledb_url() {
        println!("TEST_TIMESCALEDB_URL={url}");
    }
    eprintln!("xtask: running; Ctrl-C stops them");
    let _ = rx.recv();
    drop(servers);
    Ok(())
}
