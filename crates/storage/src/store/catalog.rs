//! The catalog of commodities and sources: registering them, listing them, and the cached ids
//! every write maps codes to.

use std::collections::HashMap;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, CommoditySpec, SourceId};

use super::{Store, with_conn};
use crate::{StoreError, schema};

/// Ids of the catalog rows, cached: every write maps codes to ids.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub commodity_ids: HashMap<CommodityCode, i32>,
    pub commodity_codes: HashMap<i32, CommodityCode>,
    pub source_ids: HashMap<SourceId, i32>,
    pub source_names: HashMap<i32, SourceId>,
}

impl Store {
    /// Adds or updates a commodity (name and unit) so that its observations can be written.
    pub async fn register_commodity(
        &self,
        code: &CommodityCode,
        spec: &CommoditySpec,
    ) -> Result<(), StoreError> {
        use schema::commodities::dsl as c;
        let row = (
            c::code.eq(code.as_str()),
            c::name.eq(&spec.name),
            c::unit.eq(&spec.unit),
        );
        let id: i32 = with_conn!(self, "registering a commodity", |conn| {
            diesel::insert_into(c::commodities)
                .values(row)
                .on_conflict(c::code)
                .do_update()
                .set((c::name.eq(&spec.name), c::unit.eq(&spec.unit)))
                .returning(c::id)
                .get_result(&mut conn)
                .await
        })?;
        let mut cat = self.catalog_cache_mut();
        cat.commodity_ids.insert(code.clone(), id);
        cat.commodity_codes.insert(id, code.clone());
        Ok(())
    }

    /// Adds or updates a source so that its observations can be written.
    pub async fn register_source(&self, name: &SourceId, title: &str) -> Result<(), StoreError> {
        use schema::sources::dsl as s;
        let id: i32 = with_conn!(self, "registering a source", |conn| {
            diesel::insert_into(s::sources)
                .values((s::name.eq(name.as_str()), s::title.eq(title)))
                .on_conflict(s::name)
                .do_update()
                .set(s::title.eq(title))
                .returning(s::id)
                .get_result(&mut conn)
                .await
        })?;
        let mut cat = self.catalog_cache_mut();
        cat.source_ids.insert(name.clone(), id);
        cat.source_names.insert(id, name.clone());
        Ok(())
    }

    /// The registered commodities (code, name, unit), by code.
    pub async fn commodities(&self) -> Result<Vec<(CommodityCode, CommoditySpec)>, StoreError> {
        use schema::commodities::dsl as c;
        let rows: Vec<(String, String, String)> =
            with_conn!(self, "listing commodities", |conn| {
                c::commodities
                    .select((c::code, c::name, c::unit))
                    .order(c::code)
                    .load(&mut conn)
                    .await
            })?;
        rows.into_iter()
            .map(|(code, name, unit)| {
                let code =
                    CommodityCode::new(&code).map_err(|_| self.corrupt("commodity code", &code))?;
                Ok((code, CommoditySpec::new(name, unit)))
            })
            .collect()
    }

    pub(super) async fn reload_catalog(&self) -> Result<(), StoreError> {
        use schema::{commodities::dsl as c, sources::dsl as s};
        let commodities: Vec<(i32, String)> = with_conn!(self, "loading commodities", |conn| {
            c::commodities
                .select((c::id, c::code))
                .load(&mut conn)
                .await
        })?;
        let sources: Vec<(i32, String)> = with_conn!(self, "loading sources", |conn| {
            s::sources.select((s::id, s::name)).load(&mut conn).await
        })?;
        let mut cat = Catalog::default();
        for (id, code) in commodities {
            let code =
                CommodityCode::new(&code).map_err(|_| self.corrupt("commodity code", &code))?;
            cat.commodity_ids.insert(code.clone(), id);
            cat.commodity_codes.insert(id, code);
        }
        for (id, name) in sources {
            let name = SourceId::new(&name).map_err(|_| self.corrupt("source name", &name))?;
            cat.source_ids.insert(name.clone(), id);
            cat.source_names.insert(id, name);
        }
        *self.catalog_cache_mut() = cat;
        Ok(())
    }

    pub(crate) fn commodity_id(&self, code: &CommodityCode) -> Result<i32, StoreError> {
        let cat = self.catalog_cache();
        cat.commodity_ids
            .get(code)
            .copied()
            .ok_or_else(|| StoreError::NotRegistered {
                db: self.inner.url.redacted(),
                kind: "commodity",
                name: code.to_string(),
            })
    }

    pub(crate) fn source_id(&self, name: &SourceId) -> Result<i32, StoreError> {
        let cat = self.catalog_cache();
        cat.source_ids
            .get(name)
            .copied()
            .ok_or_else(|| StoreError::NotRegistered {
                db: self.inner.url.redacted(),
                kind: "source",
                name: name.to_string(),
            })
    }

    /// The catalog ids of a series; None when its commodity or source was never registered
    /// (then nothing of it is stored).
    pub(crate) fn series_ids(
        &self,
        commodity: &CommodityCode,
        source: &SourceId,
    ) -> Option<(i32, i32)> {
        Some((
            self.commodity_id(commodity).ok()?,
            self.source_id(source).ok()?,
        ))
    }
}
