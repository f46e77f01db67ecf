//! Formatting for people, shared by `run`, `runs`, `status` and `schedule`: text tables that fit
//! 80 columns (`table`), terminal colour and sparklines (`paint`), the run report and history
//! (`run`), and the dashboard (`status`).

mod paint;
mod run;
mod status;
mod table;

pub(crate) use energy_core::display::{duration, score, short_duration};
pub(crate) use paint::{Paint, sparkline};
pub(crate) use run::{run_report, runs_table};
pub(crate) use status::status;
pub(crate) use table::{Align, Table, WIDTH, fit};
pub(crate) use table::{pad_right, wrap};
