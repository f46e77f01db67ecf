//! The catalog's ids, cached in the handle: every write and read maps commodity codes and
//! source names to ids through it, loaded at open and updated by each registration. Another
//! process (the scheduler beside a `serve`) may register rows after this handle loaded it:
//! reads ask [`Store::know_codes`] and [`Store::know_ids`] first, which load it again on a miss.

use std::collections::HashMap;

use diesel::QueryDsl;
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, SourceId};

use super::{Store, with_conn};
use crate::{StoreError, schema};

/// Ids of the catalog rows, cached: every write maps codes to ids.
#[derive(Debug, Default)]
pub(crate) struct CatalogCache {
    pub commodity_ids: HashMap<CommodityCode, i32>,
    pub commodity_codes: HashMap<i32, CommodityCode>,
    pub source_ids: HashMap<SourceId, i32>,
    pub source_names: HashMap<i32, SourceId>,
}

impl Store {
    pub(crate) async fn reload_catalog(&self) -> Result<(), StoreError> {
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
        let mut cat = CatalogCache::default();
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

    /// Before a read by code: loads the catalog again when it lacks one of these codes (another
    /// process may have registered it since; a code registered nowhere costs that load too).
    pub(crate) async fn know_codes<'a>(
        &self,
        commodities: impl IntoIterator<Item = &'a CommodityCode>,
        sources: impl IntoIterator<Item = &'a SourceId>,
    ) -> Result<(), StoreError> {
        let missing = {
            let cat = self.catalog_cache();
            commodities
                .into_iter()
                .any(|c| !cat.commodity_ids.contains_key(c))
                || sources.into_iter().any(|s| !cat.source_ids.contains_key(s))
        };
        if missing {
            self.reload_catalog().await?;
        }
        Ok(())
    }

    /// Before naming rows read by id: loads the catalog again when it lacks one of these ids
    /// (rows of a commodity or source another process registered since).
    pub(crate) async fn know_ids(
        &self,
        ids: impl IntoIterator<Item = (i32, i32)>,
    ) -> Result<(), StoreError> {
        let missing = {
            let cat = self.catalog_cache();
            ids.into_iter().any(|(c, s)| {
                !cat.commodity_codes.contains_key(&c) || !cat.source_names.contains_key(&s)
            })
        };
        if missing {
            self.reload_catalog().await?;
        }
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

    /// The catalog ids of a series, for a read; None when its commodity or source was never
    /// registered (then nothing of it is stored).
    pub(crate) async fn series_ids(
        &self,
        commodity: &CommodityCode,
        source: &SourceId,
    ) -> Result<Option<(i32, i32)>, StoreError> {
        self.know_codes([commodity], [source]).await?;
        Ok(self
            .commodity_id(commodity)
            .ok()
            .zip(self.source_id(source).ok()))
    }
}
