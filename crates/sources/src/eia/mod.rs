//! The EIA Open Data API v2: `/v2/{route}/data/` with the series' frequency (`daily`, `weekly`,
//! `monthly`; checked against the route's metadata for the latter two), the series facet, the
//! date window, explicit sorting, and pagination by `offset`/`length` until `response.total`
//! (the first page says how many there are; the rest are fetched side by side). Series of one
//! route that a run announces together (`Source::plan`) are fetched in the same requests — the
//! API takes the facet key repeated and tags each row with its series — and each gets exactly
//! its own rows within its own window. Values arrive as strings (older API versions sent
//! numbers; both are accepted).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::NaiveDate;
use energy_core::{Resolution, Secret, SourceId};
use futures_util::{StreamExt, TryStreamExt, stream};
use url::Url;

use crate::{
    ProviderContext, SeriesData, SeriesRequest, Source, SourceError, SourceErrorKind,
    http::{Http, Reply},
    with_trailing_slash,
};

mod frequency;
mod page;
mod row;
mod series;

use page::Row;
pub(crate) use series::check_series;
use series::{Selector, select};

/// Rows per page: the API's maximum for JSON.
const PAGE_SIZE: u64 = 5000;
/// Pages of one request in flight at once (each still waits for the rate limit).
const PAGES_AT_ONCE: usize = 4;
/// Series of one route fetched in the same requests, at most. More share more pages, but a
/// group's series are all held until its last page is in: ten keeps the requests of a
/// 30-series route within 2% of one group while three groups go side by side.
const GROUP_SIZE: usize = 10;
/// A full daily history is ~3 pages; anything near this is a server that never ends.
const MAX_PAGES: u32 = 500;

pub(crate) fn build(ctx: ProviderContext) -> Result<Arc<dyn Source>, SourceError> {
    let (key, key_variable) = ctx.required_key()?;
    let base = with_trailing_slash(ctx.config.base_url);
    let http = Http::new(ctx.id.clone(), &base, ctx.http, vec![key.clone()])?;
    Ok(Arc::new(Eia {
        id: ctx.id,
        http,
        base,
        key,
        key_variable,
        groups: Mutex::new(Vec::new()),
        offered: Mutex::new(HashSet::new()),
    }))
}

#[derive(Debug)]
struct Eia {
    id: SourceId,
    http: Http,
    base: Url,
    key: Secret,
    /// The environment variable the key comes from (the registry's), for the messages.
    key_variable: &'static str,
    /// Series of one route announced together, fetched in shared requests.
    groups: Mutex<Vec<Arc<Group>>>,
    /// `route|frequency` pairs the route metadata showed offered.
    offered: Mutex<HashSet<String>>,
}

type GroupData = HashMap<String, Result<SeriesData, SourceError>>;

/// Several series of one route, fetched once for all of them.
#[derive(Debug)]
struct Group {
    route: String,
    members: Vec<SeriesRequest>,
    /// Each member's outcome by series id, filled by the first member to ask and taken out by
    /// each; a failed request fails them all.
    fetched: tokio::sync::OnceCell<Result<Mutex<GroupData>, SourceError>>,
}

impl Eia {
    /// A data request of `route` for the rows of `facets` (a facet repeated asks for each of
    /// its values).
    fn url(
        &self,
        route: &str,
        facets: &[(&str, &str)],
        resolution: Resolution,
        window: Option<(NaiveDate, NaiveDate)>,
        offset: u64,
        length: u64,
    ) -> Url {
        let mut url = self
            .base
            .join(&format!("v2/{route}/data/"))
            .expect("route checked by check_series");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api_key", self.key.expose())
                .append_pair("frequency", resolution.name())
                .append_pair("data[0]", "value");
            for (facet, value) in facets {
                q.append_pair(&format!("facets[{facet}][]"), value);
            }
            if let Some((start, end)) = window {
                q.append_pair("start", &frequency::bound(resolution, start))
                    .append_pair("end", &frequency::bound(resolution, end));
            }
            // period, then series: a stable order, so that offsets page through it exactly (a
            // selection by other facets is one series, in order by period alone; its route
            // may have no `series` column to sort by)
            q.append_pair("sort[0][column]", "period")
                .append_pair("sort[0][direction]", "asc");
            if facets.iter().any(|(f, _)| *f == "series") {
                q.append_pair("sort[1][column]", "series")
                    .append_pair("sort[1][direction]", "asc");
            }
            q.append_pair("offset", &offset.to_string())
                .append_pair("length", &length.to_string());
        }
        url
    }

    fn malformed(&self, reply: &Reply, message: impl Into<String>) -> SourceError {
        self.malformed_at(&reply.url, message)
    }

    fn malformed_at(&self, url: &str, message: impl Into<String>) -> SourceError {
        SourceError::new(
            self.id.clone(),
            SourceErrorKind::Malformed {
                url: url.to_owned(),
                message: message.into(),
            },
        )
    }

    /// Hands every row of `facets` (one series of `route`, or several by their `series`
    /// facet) in `window` to `take`, in order, over as many pages as `total` says: the first
    /// page, then the others side by side (at most [`PAGES_AT_ONCE`] held at a time). Returns
    /// the requests it took.
    async fn each_row(
        &self,
        route: &str,
        facets: &[(&str, &str)],
        resolution: Resolution,
        window: (NaiveDate, NaiveDate),
        label: &str,
        mut take: impl FnMut(&Row, &str) -> Result<(), SourceError>,
    ) -> Result<u32, SourceError> {
        let first = self
            .http
            .get(&self.url(route, facets, resolution, Some(window), 0, PAGE_SIZE))
            .await?;
        let page = self.page(&first, label, resolution)?;
        // one series a selection, or one per value of the repeated `series` facet
        let series = facets.iter().filter(|(f, _)| *f == "series").count().max(1);
        let total = page.total;
        // the server's page size: what it sent, when it did not send everything
        let step = match page.rows.len() as u64 {
            0 => PAGE_SIZE,
            n => n,
        };
        for row in &page.rows {
            take(row, &first.url)?;
        }
        drop(page);
        // `total` is checked against what the window can hold before it sizes anything: one
        // row a day per series at most, and at most MAX_PAGES pages
        let days = (window.1 - window.0).num_days().unsigned_abs() + 1;
        let most = days.saturating_mul(series as u64);
        if total > most {
            return Err(self.malformed(
                &first,
                format!(
                    "`total` is {total}, more rows than {series} daily series hold in {days} days ({most})"
                ),
            ));
        }
        let pages = total.div_ceil(step).max(1);
        if pages > u64::from(MAX_PAGES) {
            return Err(self.malformed(
                &first,
                format!(
                    "`total` {total} at {step} rows a page would take {pages} pages, more than {MAX_PAGES}"
                ),
            ));
        }
        let requests = pages as u32;
        let offsets = (1..pages).map(|i| i * step);
        let mut pages = stream::iter(offsets)
            .map(|offset| async move {
                let reply = self
                    .http
                    .get(&self.url(route, facets, resolution, Some(window), offset, PAGE_SIZE))
                    .await?;
                let page = self.page(&reply, label, resolution)?;
                Ok::<_, SourceError>((offset, page, reply.url))
            })
            .buffered(PAGES_AT_ONCE);
        while let Some((offset, page, url)) = pages.try_next().await? {
            let expected = step.min(total.saturating_sub(offset));
            if (page.rows.len() as u64) < expected {
                return Err(self.malformed_at(
                    &url,
                    format!(
                        "the page at offset {offset} has {} rows of the {expected} that `total` ({total}) promises",
                        page.rows.len()
                    ),
                ));
            }
            for row in &page.rows {
                take(row, &url)?;
            }
        }
        Ok(requests)
    }

    /// Whether the API has any row at all for `selector` (it answers an unknown facet value
    /// with 200 and no rows).
    async fn exists(
        &self,
        selector: &Selector<'_>,
        resolution: Resolution,
        label: &str,
    ) -> Result<bool, SourceError> {
        let reply = self
            .http
            .get(&self.url(selector.route, &selector.facets, resolution, None, 0, 1))
            .await?;
        Ok(self.page(&reply, label, resolution)?.total > 0)
    }

    /// Completes one series' data: sorted, and an empty result for a series the API does not
    /// know is an error.
    async fn finish(
        &self,
        req: &SeriesRequest,
        mut out: SeriesData,
    ) -> Result<SeriesData, SourceError> {
        let selector = select(&self.id, &req.series)?;
        if out.observations.is_empty()
            && out.missing.is_empty()
            && out.invalid.is_empty()
            && out.outside.is_empty()
        {
            out.requests += 1;
            if !self.exists(&selector, req.resolution, &req.series).await? {
                return Err(SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::UnknownSeries {
                        series: req.series.clone(),
                        message: "the API returned no rows for this series at all".to_owned(),
                    },
                ));
            }
        }
        out.observations.sort_by_key(|o| o.date);
        Ok(out)
    }

    /// Fetches a group once for all its members, each row going straight to its member.
    async fn fetch_group(&self, group: &Group) -> Result<Mutex<GroupData>, SourceError> {
        let start = group.members.iter().map(|m| m.first_period()).min();
        let end = group.members.iter().map(|m| m.window.end()).max();
        let (Some(start), Some(end)) = (start, end) else {
            return Ok(Mutex::default());
        };
        // one series facet per member, at the member's index (see `plan`)
        let selectors: Vec<Selector<'_>> = group
            .members
            .iter()
            .map(|m| select(&self.id, &m.series))
            .collect::<Result<_, _>>()?;
        let facets: Vec<&str> = selectors.iter().filter_map(Selector::series).collect();
        let asked: Vec<(&str, &str)> = facets.iter().map(|s| ("series", *s)).collect();
        let label = format!("{}:{}", group.route, facets.join("+"));
        // a group's members share a route and a resolution (see `plan`)
        let resolution = group.members[0].resolution;
        let checked = self
            .check_frequency(&group.route, &label, resolution)
            .await?;
        let mut outs: Vec<SeriesData> = vec![SeriesData::default(); group.members.len()];
        let requests = checked
            + self
                .each_row(
                    &group.route,
                    &asked,
                    resolution,
                    (start, end),
                    &label,
                    |row, url| {
                        let Some(i) = row
                            .series
                            .as_deref()
                            .and_then(|s| facets.iter().position(|f| *f == s))
                        else {
                            return Err(self.malformed_at(
                                url,
                                format!(
                                    "a row of {:?} names no series asked for ({:?})",
                                    row.period, row.series
                                ),
                            ));
                        };
                        self.take_row(
                            row,
                            &selectors[i],
                            &group.members[i],
                            (start, end),
                            &mut outs[i],
                            url,
                        )
                    },
                )
                .await?;
        let mut data = HashMap::new();
        for (member, mut out) in group.members.iter().zip(outs) {
            out.requests = requests;
            data.insert(member.series.clone(), self.finish(member, out).await);
        }
        Ok(Mutex::new(data))
    }
}

#[async_trait]
impl Source for Eia {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn http_requests(&self) -> u64 {
        self.http.sent()
    }

    fn plan(&self, requests: &[SeriesRequest]) {
        let mut by_route: BTreeMap<(&str, Resolution), Vec<SeriesRequest>> = BTreeMap::new();
        for r in requests {
            // series picked by other facets are fetched on their own
            if let Ok(selector) = Selector::parse(&r.series)
                && selector.series().is_some()
            {
                by_route
                    .entry((selector.route, r.resolution))
                    .or_default()
                    .push(r.clone());
            }
        }
        // at most GROUP_SIZE series a group, dealt round-robin: the series a run starts first
        // (in the order announced) belong to different groups, which then go side by side
        let mut groups = Vec::new();
        for ((route, _), members) in by_route {
            let n = members.len().div_ceil(GROUP_SIZE);
            let mut dealt: Vec<Vec<SeriesRequest>> = vec![Vec::new(); n];
            for (i, m) in members.into_iter().enumerate() {
                dealt[i % n].push(m);
            }
            groups.extend(dealt.into_iter().filter(|g| g.len() > 1).map(|members| {
                Arc::new(Group {
                    route: route.to_owned(),
                    members,
                    fetched: tokio::sync::OnceCell::new(),
                })
            }));
        }
        *self.groups.lock().expect("groups lock") = groups;
    }

    async fn fetch(&self, req: &SeriesRequest) -> Result<SeriesData, SourceError> {
        let selector = select(&self.id, &req.series)?;
        let group = self
            .groups
            .lock()
            .expect("groups lock")
            .iter()
            .find(|g| g.members.contains(req))
            .cloned();
        if let Some(group) = group {
            let taken = match group.fetched.get_or_init(|| self.fetch_group(&group)).await {
                Ok(all) => all.lock().expect("group lock").remove(&req.series),
                Err(e) => return Err(e.clone()),
            };
            // asked for a second time: fetch it alone
            if let Some(result) = taken {
                return result;
            }
        }
        let mut out = SeriesData::default();
        let checked = self
            .check_frequency(selector.route, &req.series, req.resolution)
            .await?;
        out.requests = checked
            + self
                .each_row(
                    selector.route,
                    &selector.facets,
                    req.resolution,
                    (req.first_period(), req.window.end()),
                    &req.series,
                    |row, url| {
                        let asked = (req.first_period(), req.window.end());
                        self.take_row(row, &selector, req, asked, &mut out, url)
                    },
                )
                .await?;
        self.finish(req, out).await
    }
}

#[cfg(test)]
mod tests;
