//! The catalog of commodities and sources: registering them, listing them, and the cached ids
//! every write maps codes to.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, CommoditySpec, SourceId};

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
    /// Adds or updates a commodity (name and unit) so that its observations can be written.
    pub async fn register_commodity(
        self,
        code: &CommodityCode,
        spec: &CommoditySpec,
    ) -> Result<(), StoreError> {
        use schema::commodities::dsl as c;
        let row = (
            c::code.eq(code.as_str()),
            c::name.eq(&spec.name),
            c::unit.eq(&spec.unit),
        );
        let id: i32 = with_conn!(self.store, "registering a commodity", |conn| {
            diesel::insert_into(c::commodities)
                .values(row)
                .on_conflict(c::code)
                .do_update()
                .set((c::name.eq(&spec.name), c::unit.eq(&spec.unit)))
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

    /// The registered commodities (code, name, unit), by code.
    pub async fn commodities(self) -> Result<Vec<(CommodityCode, CommoditySpec)>, StoreError> {
        use schema::commodities::dsl as c;
        let rows: Vec<(String, String, String)> =
            with_conn!(self.store, "listing commodities", |conn| {
                c::commodities
                    .select((c::code, c::name, c::unit))
                    .order(c::code)
                    .load(&mut conn)
                    .await
            })?;
        rows.into_iter()
            .map(|(code, name, unit)| {
                let code = CommodityCode::new(&code)
                    .map_err(|_| self.store.corrupt("commodity code", &code))?;
                Ok((code, CommoditySpec::new(name, unit)))
            })
            .collect()
    }
}
