//! This machine and its processes, for the run ledger and for finding abandoned runs.

/// This machine's name, for the run ledger.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Whether a process with this id exists on this machine (Linux: /proc). Elsewhere we cannot
/// tell and say yes, leaving the heartbeat to decide.
pub fn process_alive(pid: u32) -> bool {
    if std::path::Path::new("/proc/self").exists() {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}
