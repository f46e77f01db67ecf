//! The catalog of commodities and sources: registering them, listing them, and the cached ids
//! every write maps codes to.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, CommoditySpec, Resolution, SourceId};

use crate::{Store, store::with_conn};
use crate::{StoreError, schema};

/// The catalog of commodities and sources, reached as [`Store::catalog`].
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// The catalog: registering commodities and sources, listing them.
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { store: self }
    }
}

impl Catalog<'_> {
    /// Adds or updates a commodity (name, unit and resolution) so that its observations can be
    /// written. A resolution other than the stored one is refused while the commodity has
    /// stored rows ([`StoreError::ResolutionChanged`]).
    pub async fn register_commodity(
        self,
        code: &CommodityCode,
        spec: &CommoditySpec,
    ) -> Result<(), StoreError> {
        use schema::commodities::dsl as c;
        use schema::observations::dsl as o;
        let resolution = spec.resolution.name();
        let stored: Option<(i32, String)> =
            with_conn!(self.store, "reading a commodity's resolution", |conn| {
                c::commodities
                    .filter(c::code.eq(code.as_str()))
                    .select((c::id, c::resolution))
                    .first(&mut conn)
                    .await
                    .optional()
            })?;
        if let Some((id, stored)) = stored.filter(|(_, r)| r != resolution) {
            let has_rows: Option<i32> =
                with_conn!(self.store, "looking for a commodity's rows", |conn| {
                    o::observations
                        .filter(o::commodity_id.eq(id))
                        .select(o::commodity_id)
                        .first(&mut conn)
                        .await
                        .optional()
                })?;
            if has_rows.is_some() {
                return Err(StoreError::ResolutionChanged {
                    db: self.store.inner.url.redacted(),
                    commodity: code.to_string(),
                    stored,
                    configured: resolution.to_owned(),
                });
            }
        }
        let row = (
            c::code.eq(code.as_str()),
            c::name.eq(&spec.name),
            c::unit.eq(&spec.unit),
            c::resolution.eq(resolution),
        );
        let id: i32 = with_conn!(self.store, "registering a commodity", |conn| {
            diesel::insert_into(c::commodities)
                .values(row)
                .on_conflict(c::code)
                .do_update()
                .set((
                    c::name.eq(&spec.name),
                    c::unit.eq(&spec.unit),
                    c::resolution.eq(resolution),
                ))
                .returning(c::id)
                .get_result(&mut conn)
                .await
        })?;
        let mut cat = self.store.catalog_cache_mut();
        cat.commodity_ids.insert(code.clone(), id);
        cat.commodity_codes.insert(id, code.clone());
        Ok(())
    }

    /// Adds or updates a source so that its observations can be written.
    pub async fn register_source(self, name: &SourceId, title: &str) -> Result<(), StoreError> {
        use schema::sources::dsl as s;
        let id: i32 = with_conn!(self.store, "registering a source", |conn| {
            diesel::insert_into(s::sources)
                .values((s::name.eq(name.as_str()), s::title.eq(title)))
                .on_conflict(s::name)
                .do_update()
                .set(s::title.eq(title))
                .returning(s::id)
                .get_result(&mut conn)
                .await
        })?;
        let mut cat = self.store.catalog_cache_mut();
        cat.source_ids.insert(name.clone(), id);
        cat.source_names.insert(id, name.clone());
        Ok(())
    }

    /// The registered commodities (code, name, unit, resolution), by code.
    pub async fn commodities(self) -> Result<Vec<(CommodityCode, CommoditySpec)>, StoreError> {
        use schema::commodities::dsl as c;
        let rows: Vec<(String, String, String, String)> =
            with_conn!(self.store, "listing commodities", |conn| {
                c::commodities
                    .select((c::code, c::name, c::unit, c::resolution))
                    .order(c::code)
                    .load(&mut conn)
                    .await
            })?;
        rows.into_iter()
            .map(|(code, name, unit, resolution)| {
                let code = CommodityCode::new(&code)
                    .map_err(|_| self.store.corrupt("commodity code", &code))?;
                let resolution: Resolution = resolution
                    .parse()
                    .map_err(|_| self.store.corrupt("resolution", &resolution))?;
                Ok((code, CommoditySpec::new(name, unit).at(resolution)))
            })
            .collect()
    }
}
