//! A fire time's notification, sent once whatever its attempts: the attempt that holds the fire
//! time claims the sending with one compare-and-set (`notified_attempt` still unset, `attempt`
//! still its own), so a superseded attempt, or a later attempt after a notified one died, sends
//! nothing. Under read committed a second claimant waits for the first to commit and then finds
//! the column set.

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use super::ScheduleLedger;
use crate::{StoreError, schema::schedule_fires, store::with_conn, types::DbTime};

/// Whether an attempt at a fire time is the one to send its notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyClaim {
    /// This attempt sends it.
    Send,
    /// Attempt `by` has sent it (or is sending it) already.
    AlreadySent { by: u32 },
    /// The fire time was taken over: attempt `live_attempt` holds it now.
    Superseded { live_attempt: u32 },
    /// The ledger has no such fire time (a run started without a claim).
    Unclaimed,
}

impl ScheduleLedger<'_> {
    /// Claims the sending of `scheduled_for`'s notification for attempt `attempt`.
    pub async fn claim_notification(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
        attempt: u32,
        at: DateTime<Utc>,
    ) -> Result<NotifyClaim, StoreError> {
        use schedule_fires::dsl as f;
        let mine = attempt as i32;
        let n = with_conn!(self.store, "claiming a fire time's notification", |conn| {
            diesel::update(
                f::schedule_fires
                    .filter(f::schedule_key.eq(schedule_key))
                    .filter(f::scheduled_for.eq(DbTime(scheduled_for)))
                    .filter(f::attempt.eq(mine))
                    .filter(f::notified_attempt.is_null()),
            )
            .set((
                f::notified_attempt.eq(Some(mine)),
                f::notified_at.eq(Some(DbTime(at))),
            ))
            .execute(&mut conn)
            .await
        })?;
        if n == 1 {
            return Ok(NotifyClaim::Send);
        }
        let row: Option<(i32, Option<i32>)> =
            with_conn!(self.store, "reading a fire time's notification", |conn| {
                f::schedule_fires
                    .filter(f::schedule_key.eq(schedule_key))
                    .filter(f::scheduled_for.eq(DbTime(scheduled_for)))
                    .select((f::attempt, f::notified_attempt))
                    .first(&mut conn)
                    .await
                    .optional()
            })?;
        Ok(match row {
            None => NotifyClaim::Unclaimed,
            Some((_, Some(by))) => NotifyClaim::AlreadySent {
                by: by.max(1) as u32,
            },
            Some((live, None)) => NotifyClaim::Superseded {
                live_attempt: live.max(1) as u32,
            },
        })
    }
}
