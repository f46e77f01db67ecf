//! SQL types whose column type differs between the backends, so that one `table!` serves both:
//! exact decimals (NUMERIC on PostgreSQL, canonical TEXT on SQLite) and UTC instants
//! (TIMESTAMPTZ on PostgreSQL, RFC 3339 TEXT on SQLite).

use std::str::FromStr;

use bigdecimal::BigDecimal;
use chrono::{DateTime, SecondsFormat, Utc};
use diesel::{
    deserialize::{self, FromSql, FromSqlRow},
    expression::AsExpression,
    pg::{Pg, PgValue},
    serialize::{self, IsNull, Output, ToSql},
    sql_types::{Numeric, Text, Timestamptz},
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
        let big = <BigDecimal as FromSql<Numeric, Pg>>::from_sql(bytes)?;
        Ok(DbPrice(Price::parse(&big.to_plain_string())?))
    }
}

impl ToSql<ExactDecimal, Sqlite> for DbPrice {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<ExactDecimal, Sqlite> for DbPrice {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(DbPrice(Price::parse(&text)?))
    }
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
