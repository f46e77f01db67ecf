//! Apache Parquet through the `arrow` and `parquet` crates: typed columns (date as `Date32`,
//! values as `Decimal128(38, scale)` with the scale the data needs, so every value is exact),
//! Snappy-compressed, written a batch at a time.

use std::{collections::HashMap, io::Write, sync::Arc};

use arrow_array::{ArrayRef, Date32Array, Decimal128Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use energy_core::{Observation, Price};
use energy_storage::Panel;
use parquet::{arrow::ArrowWriter, basic::Compression, file::properties::WriterProperties};

/// The widest Decimal128.
const PRECISION: u8 = 38;
/// Rows per record batch handed to the writer.
const BATCH: usize = 65_536;
/// Dates per record batch of the wide layout (each row holds a value of every series).
const WIDE_BATCH: usize = 4_096;
/// Rows per row group: bounds what the writer holds before it writes.
const ROW_GROUP: usize = 262_144;

/// The refusal of a value that does not fit the column.
fn does_not_fit(value: Price, date: NaiveDate, scale: u32) -> anyhow::Error {
    anyhow::anyhow!(
        "{value} on {date} does not fit Decimal128({PRECISION}, {scale}); export it as CSV or JSON lines"
    )
}

/// `price` as an integer of `scale` decimal places, if it fits 38 digits.
fn unscaled(price: Price, scale: u32) -> Option<i128> {
    let d = price.as_decimal();
    let up = scale.checked_sub(d.scale())?;
    let v = d.mantissa().checked_mul(10i128.checked_pow(up)?)?;
    (v.unsigned_abs() < 10u128.pow(u32::from(PRECISION))).then_some(v)
}

fn days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}

fn decimal(scale: u32) -> DataType {
    DataType::Decimal128(PRECISION, scale as i8)
}

fn writer<W: Write + Send>(out: W, schema: SchemaRef) -> Result<ArrowWriter<W>, anyhow::Error> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .build();
    Ok(ArrowWriter::try_new(out, schema, Some(props))?)
}

/// The long layout's schema: one row per observation.
fn long_schema(scale: u32) -> Schema {
    Schema::new(vec![
        Field::new("commodity", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("date", DataType::Date32, false),
        Field::new("value", decimal(scale), false),
        Field::new("unit", DataType::Utf8, false),
    ])
}

/// Observations to a Parquet file in the long layout, a batch at a time.
pub(super) struct LongWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    scale: u32,
    commodity: Vec<String>,
    source: Vec<String>,
    date: Vec<i32>,
    value: Vec<i128>,
    unit: Vec<String>,
}

impl<W: Write + Send> LongWriter<W> {
    pub(super) fn new(out: W, scale: u32) -> Result<Self, anyhow::Error> {
        let schema = Arc::new(long_schema(scale));
        Ok(Self {
            writer: writer(out, schema.clone())?,
            schema,
            scale,
            commodity: Vec::with_capacity(BATCH),
            source: Vec::with_capacity(BATCH),
            date: Vec::with_capacity(BATCH),
            value: Vec::with_capacity(BATCH),
            unit: Vec::with_capacity(BATCH),
        })
    }

    pub(super) fn push(&mut self, o: Observation) -> Result<(), anyhow::Error> {
        let v = unscaled(o.value, self.scale)
            .ok_or_else(|| does_not_fit(o.value, o.date, self.scale))?;
        self.commodity.push(o.commodity.as_str().to_owned());
        self.source.push(o.source.as_str().to_owned());
        self.date.push(days(o.date));
        self.value.push(v);
        self.unit.push(o.unit);
        if self.date.len() == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), anyhow::Error> {
        if self.date.is_empty() {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(std::mem::take(&mut self.commodity))),
            Arc::new(StringArray::from(std::mem::take(&mut self.source))),
            Arc::new(Date32Array::from(std::mem::take(&mut self.date))),
            Arc::new(
                Decimal128Array::from(std::mem::take(&mut self.value))
                    .with_precision_and_scale(PRECISION, self.scale as i8)?,
            ),
            Arc::new(StringArray::from(std::mem::take(&mut self.unit))),
        ];
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.writer.write(&batch)?;
        Ok(())
    }

    /// Writes what is left and the footer; returns the output.
    pub(super) fn finish(mut self) -> Result<W, anyhow::Error> {
        self.flush()?;
        Ok(self.writer.into_inner()?)
    }
}

/// The wide layout's schema: the date, then one nullable decimal column per series named
/// `COMMODITY/source`, its unit in the field's metadata (`unit`).
fn wide_schema(panel: &Panel, scale: u32) -> Schema {
    let mut fields = vec![Field::new("date", DataType::Date32, false)];
    fields.extend(panel.columns.iter().map(|c| {
        Field::new(c.name(), decimal(scale), true)
            .with_metadata(HashMap::from([("unit".to_owned(), c.unit.clone())]))
    }));
    Schema::new(fields)
}

/// A panel to a Parquet file in the wide layout, its decimals at the scale its values need.
pub(super) fn write_wide<W: Write + Send>(out: W, panel: &Panel) -> Result<W, anyhow::Error> {
    let scale = panel
        .columns
        .iter()
        .flat_map(|c| c.values.iter().flatten())
        .map(|p| p.as_decimal().scale())
        .max()
        .unwrap_or(0);
    let schema = Arc::new(wide_schema(panel, scale));
    let mut writer = writer(out, schema.clone())?;
    for start in (0..panel.dates.len()).step_by(WIDE_BATCH) {
        let end = (start + WIDE_BATCH).min(panel.dates.len());
        let mut columns: Vec<ArrayRef> = vec![Arc::new(Date32Array::from(
            panel.dates[start..end]
                .iter()
                .map(|d| days(*d))
                .collect::<Vec<_>>(),
        ))];
        for column in &panel.columns {
            let values = column.values[start..end]
                .iter()
                .zip(&panel.dates[start..end])
                .map(|(v, date)| match v {
                    None => Ok(None),
                    Some(p) => unscaled(*p, scale)
                        .map(Some)
                        .ok_or_else(|| does_not_fit(*p, *date, scale)),
                })
                .collect::<anyhow::Result<Vec<Option<i128>>>>()?;
            columns.push(Arc::new(
                Decimal128Array::from(values).with_precision_and_scale(PRECISION, scale as i8)?,
            ));
        }
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_scale_up_exactly_and_what_does_not_fit_is_refused() {
        let p = |s: &str| Price::parse(s).unwrap();
        assert_eq!(unscaled(p("-36.98"), 2), Some(-3698));
        assert_eq!(unscaled(p("60"), 3), Some(60_000));
        assert_eq!(unscaled(p("1.2345"), 2), None, "a scale too small");
        assert_eq!(unscaled(p("79228162514264337593543950335"), 10), None);
    }
}
