//! energy-sources against local HTTP servers replaying the real fixtures: one shared conformance
//! check for every provider, then each provider's own quirks. No test touches the internet.

mod building;
mod conformance;
mod eia;
mod facets;
mod fred;
mod limits;
mod properties;
mod resolution;
mod support;
mod yahoo;
