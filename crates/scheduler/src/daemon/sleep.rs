//! The loop's sleep between turns, and what ends it early. On Linux it is a kernel timer (a
//! timerfd on the boot-time clock): the process wakes once, at the deadline, and a machine that
//! was suspended wakes it on resume. tokio's timer wheel wakes a sleep of seconds at each of its
//! level boundaries too (three wakes for a 5-second heartbeat, measured with strace), which were
//! most of an idle scheduler's CPU. Elsewhere, or if no timerfd can be made, tokio's sleep.

use std::{sync::Arc, time::Duration};

/// Ends the loop's sleep when dropped: held by a run's task, it wakes the loop at the end of
/// the run, however the run ends (a panic included).
#[derive(Debug)]
pub(super) struct WakeOnDrop(pub(super) Arc<tokio::sync::Notify>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

/// A reusable sleep: each [`Sleeper::sleep`] replaces the last one's deadline, so a sleep
/// dropped unfinished (a `select!` another branch won) leaves nothing behind.
#[derive(Debug)]
pub(super) struct Sleeper {
    #[cfg(target_os = "linux")]
    timer: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl Sleeper {
    /// Must be called within the tokio runtime.
    pub(super) fn new() -> Self {
        Self {
            #[cfg(target_os = "linux")]
            timer: linux::timer()
                .inspect_err(
                    |e| tracing::debug!(error = %e, "no timerfd: the loop sleeps on tokio's timer"),
                )
                .ok(),
        }
    }

    /// Sleeps for `d` (at least 1 ms).
    pub(super) async fn sleep(&mut self, d: Duration) {
        let d = d.max(Duration::from_millis(1));
        #[cfg(target_os = "linux")]
        if let Some(timer) = &self.timer {
            match linux::sleep(timer, d).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "the timerfd failed: the loop sleeps on tokio's timer from now on");
                    self.timer = None;
                }
            }
        }
        tokio::time::sleep(d).await;
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::{io, os::fd::OwnedFd, time::Duration};

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::{Interest, unix::AsyncFd};

    pub(super) fn timer() -> io::Result<AsyncFd<OwnedFd>> {
        let fd = timerfd_create(
            TimerfdClockId::Boottime,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        // tokio 1.54 deprecated its safe constructors for any `AsRawFd`, which could hand it a
        // descriptor it does not own; an `OwnedFd` is the case they are sound for (valid, open,
        // the same for the AsyncFd's lifetime), and this crate forbids `unsafe` for the other
        #[allow(deprecated)]
        AsyncFd::with_interest(fd, Interest::READABLE)
    }

    pub(super) async fn sleep(timer: &AsyncFd<OwnedFd>, d: Duration) -> io::Result<()> {
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let value = Timespec {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: d.subsec_nanos().into(),
        };
        // arming again resets the count of expiries: an earlier, unread one is forgotten
        timerfd_settime(
            timer.get_ref(),
            TimerfdTimerFlags::empty(),
            &Itimerspec {
                it_interval: zero,
                it_value: value,
            },
        )?;
        loop {
            let mut ready = timer.readable().await?;
            let mut expiries = [0u8; 8];
            match rustix::io::read(timer.get_ref(), &mut expiries) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sleep lasts its time, and one dropped unfinished does not end the next one early.
    #[tokio::test]
    async fn a_sleep_lasts_its_time_and_a_dropped_one_leaves_nothing_behind() {
        let mut s = Sleeper::new();
        #[cfg(target_os = "linux")]
        assert!(s.timer.is_some(), "a timerfd on Linux");
        let start = std::time::Instant::now();
        s.sleep(Duration::from_millis(30)).await;
        assert!(start.elapsed() >= Duration::from_millis(30));
        // a 20 ms sleep abandoned after 1 ms; its deadline passes during the next, longer sleep
        let _ = tokio::time::timeout(Duration::from_millis(1), s.sleep(Duration::from_millis(20)))
            .await;
        let start = std::time::Instant::now();
        s.sleep(Duration::from_millis(60)).await;
        assert!(
            start.elapsed() >= Duration::from_millis(60),
            "{:?}",
            start.elapsed()
        );
    }
}
