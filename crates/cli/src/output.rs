//! Standard output that a closed reader cannot crash: `energy-pipeline … | head -1` stops the
//! output quietly and the command ends with the exit code of what it did. Any other write error
//! (a full disk) is kept and reported once at the end, with exit 1.

use std::{
    fmt,
    io::{self, Write},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

static STOPPED: AtomicBool = AtomicBool::new(false);
static FAILED: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout; after the first error nothing more is written.
pub(crate) fn write(args: fmt::Arguments<'_>) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        stop(e);
    }
}

fn stop(e: io::Error) {
    STOPPED.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        let mut failed = FAILED.lock().unwrap_or_else(|p| p.into_inner());
        failed.get_or_insert(e);
    }
}

/// Flushes stdout; the first write error that was not a closed pipe, if any.
pub(crate) fn finish() -> Option<io::Error> {
    if !STOPPED.load(Ordering::Relaxed)
        && let Err(e) = io::stdout().lock().flush()
    {
        stop(e);
    }
    FAILED.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// `print!` to [`write()`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

/// `println!` to [`write()`].
macro_rules! outln {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
