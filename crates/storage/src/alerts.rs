//! The freshness alert ledger: what was last announced of each series, STALE or OK. A change
//! is claimed by a compare-and-set on its row, so that of several processes judging at once
//! (a scheduled run and the hourly check, two schedulers) exactly one announces it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, SourceId};

use crate::{Store, StoreError, schema::freshness_alerts, store::with_conn, types::DbTime};

/// The freshness alert ledger, reached as [`Store::alerts`].
#[derive(Debug, Clone, Copy)]
pub struct Alerts<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// The freshness alert ledger: what was last announced of each series.
    pub fn alerts(&self) -> Alerts<'_> {
        Alerts { store: self }
    }
}

/// What was last announced of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alerted {
    /// Nothing, or its recovery: the next STALE is news.
    Ok,
    /// That it went STALE: its recovery is news, another STALE is not.
    Stale,
}

impl Alerted {
    fn name(&self) -> &'static str {
        match self {
            Alerted::Ok => "ok",
            Alerted::Stale => "stale",
        }
    }
}

impl Alerts<'_> {
    /// What was last announced of every series in the ledger (a series not in it: OK).
    pub async fn last(self) -> Result<BTreeMap<(CommodityCode, SourceId), Alerted>, StoreError> {
        use freshness_alerts::dsl as a;
        let rows: Vec<(String, String, String)> =
            with_conn!(self.store, "reading the freshness alerts", |conn| {
                a::freshness_alerts
                    .select((a::commodity, a::source, a::state))
                    .load(&mut conn)
                    .await
            })?;
        let mut out = BTreeMap::new();
        for (commodity, source, state) in rows {
            let (Ok(c), Ok(s)) = (CommodityCode::new(&commodity), SourceId::new(&source)) else {
                return Err(self
                    .store
                    .corrupt("freshness alert series", &format!("{commodity}/{source}")));
            };
            let state = match state.as_str() {
                "ok" => Alerted::Ok,
                "stale" => Alerted::Stale,
                other => return Err(self.store.corrupt("freshness alert state", other)),
            };
            out.insert((c, s), state);
        }
        Ok(out)
    }

    /// Claims the announcement that the series went from `from` to `to`: true for the one
    /// caller whose claim changed the row, false when it no longer read `from` (somebody else
    /// announced it).
    pub async fn claim(
        self,
        commodity: &CommodityCode,
        source: &SourceId,
        from: Alerted,
        to: Alerted,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use freshness_alerts::dsl as a;
        let n = with_conn!(self.store, "claiming a freshness alert", |conn| {
            async {
                diesel::insert_into(a::freshness_alerts)
                    .values((
                        a::commodity.eq(commodity.as_str()),
                        a::source.eq(source.as_str()),
                        a::state.eq(Alerted::Ok.name()),
                        a::changed_at.eq(DbTime(at)),
                    ))
                    .on_conflict_do_nothing()
                    .execute(&mut conn)
                    .await?;
                diesel::update(
                    a::freshness_alerts
                        .filter(a::commodity.eq(commodity.as_str()))
                        .filter(a::source.eq(source.as_str()))
                        .filter(a::state.eq(from.name())),
                )
                .set((a::state.eq(to.name()), a::changed_at.eq(DbTime(at))))
                .execute(&mut conn)
                .await
            }
            .await
        })?;
        Ok(n == 1)
    }
}
