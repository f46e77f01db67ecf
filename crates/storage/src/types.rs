//! SQL types whose column type differs between the backends, so that one `table!` serves both:
//! exact decimals (NUMERIC on PostgreSQL, decimal TEXT with the published scale on SQLite) and UTC instants
//! (TIMESTAMPTZ on PostgreSQL, RFC 3339 TEXT on SQLite).

use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use diesel::{
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    pg::{Pg, PgValue},
    serialize::{self, IsNull, Output, ToSql},
    sql_types::{Date, Numeric, Text, Timestamptz},
    sqlite::{Sqlite, SqliteValue},
};
use energy_core::Price;

/// An exact decimal column.
#[derive(
    Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(postgres_type(oid = 1700, array_oid = 1231))]
#[diesel(sqlite_type(name = "Text"))]
pub struct ExactDecimal;

/// A point in time, always UTC.
#[derive(
    Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct UtcTime;

/// A [`Price`] as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = ExactDecimal)]
pub struct DbPrice(pub Price);

/// A UTC time as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = UtcTime)]
pub struct DbTime(pub DateTime<Utc>);

impl ToSql<ExactDecimal, Pg> for DbPrice {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let big = BigDecimal::from_str(&self.0.to_string())?;
        <BigDecimal as ToSql<Numeric, Pg>>::to_sql(&big, &mut out.reborrow())
    }
}

impl FromSql<ExactDecimal, Pg> for DbPrice {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        // rust_decimal decodes PostgreSQL's binary NUMERIC directly (no text round trip)
        let d = <rust_decimal::Decimal as tokio_postgres::types::FromSql<'_>>::from_sql(
            &tokio_postgres::types::Type::NUMERIC,
            bytes.as_bytes(),
        )?;
        // rust_decimal reads a zero as plain 0: the scale is the header's dscale (ndigits,
        // weight, sign, dscale: four big-endian 16-bit words)
        let mut d = d;
        if let Some(&[hi, lo]) = bytes.as_bytes().get(6..8) {
            let dscale = u32::from(u16::from_be_bytes([hi, lo]));
            if d.scale() < dscale && dscale <= 28 {
                d.rescale(dscale);
            }
        }
        Ok(DbPrice(Price::from_decimal(d)))
    }
}

impl ToSql<ExactDecimal, Sqlite> for DbPrice {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<ExactDecimal, Sqlite> for DbPrice {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        // read in place: no copy of the text per row
        Ok(DbPrice(Price::parse(value.read_text())?))
    }
}

/// A stored date, read without chrono's format parser (SQLite keeps `YYYY-MM-DD` text; a
/// long read spends most of its time there otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub(crate) struct DbDate(pub NaiveDate);

impl FromSql<Date, Sqlite> for DbDate {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = value.read_text();
        match iso_date(text.as_bytes()) {
            Some(d) => Ok(DbDate(d)),
            None => Ok(DbDate(NaiveDate::parse_from_str(text, "%F")?)),
        }
    }
}

impl FromSql<Date, Pg> for DbDate {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(DbDate(<NaiveDate as FromSql<Date, Pg>>::from_sql(bytes)?))
    }
}

/// `YYYY-MM-DD` exactly, or None.
pub(crate) fn iso_date(b: &[u8]) -> Option<NaiveDate> {
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

impl ToSql<UtcTime, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<Timestamptz, Pg>>::to_sql(&self.0, &mut out.reborrow())
    }
}

impl FromSql<UtcTime, Pg> for DbTime {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(DbTime(
            <DateTime<Utc> as FromSql<Timestamptz, Pg>>::from_sql(bytes)?,
        ))
    }
}

/// RFC 3339 with microseconds and `Z`: fixed width, so text order is time order.
pub(crate) fn sqlite_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl ToSql<UtcTime, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(sqlite_time(&self.0));
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTime, Sqlite> for DbTime {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(DbTime(
            DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc),
        ))
    }
}

/// One text column, for raw SQL that returns a single value per row.
#[derive(diesel::QueryableByName)]
pub(crate) struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub text: String,
}

/// Bounds for open-ended date filters that sort correctly as text too (SQLite stores dates as
/// `YYYY-MM-DD` text, where chrono's extreme dates would not compare).
pub(crate) const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("valid date");
pub(crate) const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");

/// A label and a count, from a `GROUP BY` (metrics).
#[derive(diesel::QueryableByName)]
pub(crate) struct CountRow {
    #[diesel(sql_type = Text)]
    pub label: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_are_read_exactly_and_anything_else_is_left_to_chrono() {
        assert_eq!(
            iso_date(b"2020-04-20"),
            NaiveDate::from_ymd_opt(2020, 4, 20)
        );
        assert_eq!(iso_date(b"0001-01-01"), NaiveDate::from_ymd_opt(1, 1, 1));
        for other in [
            &b"2020-4-20"[..],
            b"2020-02-30",
            b"2020/04/20",
            b"2020-04-2x",
            b"",
        ] {
            assert_eq!(iso_date(other), None, "{other:?}");
        }
    }
}

/// One integer column, for raw SQL that returns a single number.
#[derive(diesel::QueryableByName)]
pub(crate) struct IntRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub n: i32,
}
