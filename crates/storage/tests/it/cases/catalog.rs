//! The catalog: a commodity's resolution is kept with it, and cannot change under stored rows.

#[allow(unused_imports)]
use super::*;
use energy_core::{CommoditySpec, Resolution};

pub(crate) async fn a_commodity_keeps_its_resolution_while_rows_are_stored(db: &TestDb) {
    let stocks = code("US_CRUDE_STOCKS");
    let weekly = CommoditySpec::new("U.S. crude oil stocks", "kbbl").at(Resolution::Weekly);
    let catalog = db.store.catalog();
    // with nothing stored, a resolution can still be corrected
    catalog
        .register_commodity(&stocks, &weekly.clone().at(Resolution::Monthly))
        .await
        .unwrap();
    catalog.register_commodity(&stocks, &weekly).await.unwrap();
    let listed = catalog.commodities().await.unwrap();
    let (_, spec) = listed.iter().find(|(c, _)| *c == stocks).unwrap();
    assert_eq!(spec.resolution, Resolution::Weekly);
    // an old catalog row reads as daily
    let (_, wti) = listed.iter().find(|(c, _)| c.as_str() == "WTI").unwrap();
    assert_eq!(wti.resolution, Resolution::Daily);

    db.store
        .observations()
        .upsert(
            None,
            &[obs("US_CRUDE_STOCKS", "eia", "2026-11-20", "421951")],
        )
        .await
        .unwrap();
    let err = catalog
        .register_commodity(&stocks, &weekly.clone().at(Resolution::Daily))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::ResolutionChanged { stored, configured, .. }
            if stored == "weekly" && configured == "daily"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("US_CRUDE_STOCKS is configured daily but its stored rows are weekly")
            && message.contains("new commodity code"),
        "{message}"
    );
    // nothing changed: the stored rows keep their resolution, and the same one registers again
    catalog.register_commodity(&stocks, &weekly).await.unwrap();
    assert_eq!(exported_values(db).await, ["421951"]);
}

/// A store opened before another process registered a commodity (a `serve` started before the
/// scheduler's first run) read that commodity's rows as a corrupt database ("commodity id N")
/// in an export, and silently left its series out of the freshness list and of reads by code.
/// It reads them as the writer does.
pub(crate) async fn a_store_opened_before_another_registers_a_commodity_reads_it(db: &TestDb) {
    let reader = energy_storage::Store::open(&db.url).await.unwrap();
    let stocks = code("US_CRUDE_STOCKS");
    db.store
        .catalog()
        .register_commodity(
            &stocks,
            &CommoditySpec::new("U.S. crude oil stocks", "kbbl"),
        )
        .await
        .unwrap();
    db.store
        .observations()
        .upsert(
            None,
            &[obs("US_CRUDE_STOCKS", "eia", "2026-11-20", "421951")],
        )
        .await
        .unwrap();
    let mut exported = Vec::new();
    reader
        .history()
        .export(&ExportFilter::default(), |o| {
            exported.push((o.commodity.to_string(), o.value.to_string()));
            Ok::<_, ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    assert!(
        exported.contains(&("US_CRUDE_STOCKS".to_owned(), "421951".to_owned())),
        "{exported:?}"
    );
    let series = reader
        .history()
        .series(&energy_storage::SeriesQuery::new(
            stocks.clone(),
            src("eia"),
        ))
        .await
        .unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    let freshness = reader.observations().freshness().await.unwrap();
    assert!(
        freshness.iter().any(|s| s.commodity == stocks),
        "{freshness:?}"
    );
}
