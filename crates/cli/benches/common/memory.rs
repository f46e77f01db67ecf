//! A process' peak memory as the kernel counts it, for the benchmarks that run the binary.

/// The peak resident set (VmHWM) of process `pid` in MB, while it runs.
pub(crate) fn vm_hwm_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
