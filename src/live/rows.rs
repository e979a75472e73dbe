//! SQL Server values → JSON, the form every target answers in: rows are
//! objects keyed by column name, as runbooks read them.
//!
//! Integers, bits and floats stay numbers; `numeric(p, 0)` (LSNs are
//! numeric(25,0)) becomes an integer when it fits in i64, any other decimal
//! a string, so nothing is rounded; date and time types become ISO 8601
//! text (no zone: SQL Server's `datetime` has none); uniqueidentifier the
//! upper-case form SQL Server prints; varbinary `0x...` hex.

use serde_json::{Map, Value};
use tiberius::{ColumnData, Row};

/// Seconds from 0001-01-01 and from 1900-01-01 to the Unix epoch.
const EPOCH_FROM_0001: i64 = 62_135_596_800;
const EPOCH_FROM_1900: i64 = 2_208_988_800;

/// `YYYY-MM-DDTHH:MM:SS[.fffffff]` for seconds since the Unix epoch.
fn iso(epoch: i64, nanos: u64) -> String {
    let base = crate::time::rfc3339(epoch);
    let base = base.trim_end_matches('Z');
    if nanos == 0 {
        return base.to_string();
    }
    let frac = format!("{:07}", nanos / 100);
    format!("{base}.{}", frac.trim_end_matches('0'))
}

/// (seconds, nanoseconds) since midnight of a `time(scale)` value.
fn time_of_day(increments: u64, scale: u8) -> (i64, u64) {
    let per_second = 10u64.saturating_pow(scale as u32).max(1);
    let seconds = increments / per_second;
    let rest = increments % per_second;
    let nanos = rest.saturating_mul(1_000_000_000) / per_second;
    (seconds as i64, nanos)
}

pub fn value(data: &ColumnData<'_>) -> Value {
    use ColumnData::*;
    match data {
        U8(v) => v.map_or(Value::Null, Value::from),
        I16(v) => v.map_or(Value::Null, Value::from),
        I32(v) => v.map_or(Value::Null, Value::from),
        I64(v) => v.map_or(Value::Null, Value::from),
        F32(v) => v.map_or(Value::Null, |f| float(f as f64)),
        F64(v) => v.map_or(Value::Null, float),
        Bit(v) => v.map_or(Value::Null, Value::from),
        String(v) => v
            .as_ref()
            .map_or(Value::Null, |s| Value::String(s.to_string())),
        Guid(v) => v.map_or(Value::Null, |g| {
            Value::String(g.hyphenated().to_string().to_uppercase())
        }),
        Binary(v) => v.as_ref().map_or(Value::Null, |b| {
            let hex: std::string::String = b.iter().map(|x| format!("{x:02X}")).collect();
            Value::String(format!("0x{hex}"))
        }),
        Numeric(v) => v.map_or(Value::Null, |n| {
            match (n.scale(), i64::try_from(n.value())) {
                (0, Ok(i)) => Value::from(i),
                (0, Err(_)) => Value::String(n.value().to_string()),
                _ => Value::String(n.to_string()),
            }
        }),
        Xml(v) => v
            .as_ref()
            .map_or(Value::Null, |x| Value::String(x.to_string())),
        DateTime(v) => v.map_or(Value::Null, |d| {
            // 1/300 s ticks since midnight.
            let ticks = d.seconds_fragments() as u64;
            let epoch = d.days() as i64 * 86_400 - EPOCH_FROM_1900 + (ticks / 300) as i64;
            Value::String(iso(epoch, (ticks % 300) * 1_000_000_000 / 300))
        }),
        SmallDateTime(v) => v.map_or(Value::Null, |d| {
            let epoch =
                d.days() as i64 * 86_400 - EPOCH_FROM_1900 + d.seconds_fragments() as i64 * 60;
            Value::String(iso(epoch, 0))
        }),
        Date(v) => v.map_or(Value::Null, |d| {
            let epoch = d.days() as i64 * 86_400 - EPOCH_FROM_0001;
            Value::String(crate::time::rfc3339(epoch)[..10].to_string())
        }),
        Time(v) => v.map_or(Value::Null, |t| {
            let (s, n) = time_of_day(t.increments(), t.scale());
            let full = iso(s, n);
            Value::String(full[11..].to_string())
        }),
        DateTime2(v) => v.map_or(Value::Null, |d| {
            let (s, n) = time_of_day(d.time().increments(), d.time().scale());
            let epoch = d.date().days() as i64 * 86_400 - EPOCH_FROM_0001 + s;
            Value::String(iso(epoch, n))
        }),
        DateTimeOffset(v) => v.map_or(Value::Null, |d| {
            // Stored as UTC; shown in its own offset, as SQL Server shows it.
            let dt = d.datetime2();
            let (s, n) = time_of_day(dt.time().increments(), dt.time().scale());
            let offset = d.offset() as i64;
            let epoch = dt.date().days() as i64 * 86_400 - EPOCH_FROM_0001 + s + offset * 60;
            let sign = if offset < 0 { '-' } else { '+' };
            let (h, m) = (offset.abs() / 60, offset.abs() % 60);
            Value::String(format!("{}{sign}{h:02}:{m:02}", iso(epoch, n)))
        }),
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Rows as JSON objects; a repeated column name keeps its first value.
pub fn rows(rows: Vec<Row>) -> Value {
    Value::Array(
        rows.into_iter()
            .map(|row| {
                let mut m = Map::new();
                for (col, data) in row.cells() {
                    if !m.contains_key(col.name()) {
                        m.insert(col.name().to_string(), value(data));
                    }
                }
                Value::Object(m)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tiberius::numeric::Numeric;
    use tiberius::time::{Date, DateTime, DateTime2, DateTimeOffset, Time};

    #[test]
    fn common_types_convert() {
        assert_eq!(value(&ColumnData::I16(Some(61))), json!(61));
        assert_eq!(value(&ColumnData::U8(Some(2))), json!(2));
        assert_eq!(value(&ColumnData::Bit(Some(true))), json!(true));
        assert_eq!(value(&ColumnData::I32(None)), Value::Null);
        assert_eq!(value(&ColumnData::String(Some("mgc".into()))), json!("mgc"));
        let lsn = Numeric::new_with_scale(34_000_000_010_000_001, 0);
        assert_eq!(
            value(&ColumnData::Numeric(Some(lsn))),
            json!(34_000_000_010_000_001i64)
        );
        let huge = Numeric::new_with_scale(i128::from(i64::MAX) * 10, 0);
        assert_eq!(
            value(&ColumnData::Numeric(Some(huge))),
            json!("92233720368547758070")
        );
        let cents = Numeric::new_with_scale(12345, 2);
        assert_eq!(value(&ColumnData::Numeric(Some(cents))), json!("123.45"));
        let guid = tiberius::Uuid::parse_str("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap();
        assert_eq!(
            value(&ColumnData::Guid(Some(guid))),
            json!("6F9619FF-8B86-D011-B42D-00C04FC964FF")
        );
        assert_eq!(
            value(&ColumnData::Binary(Some(vec![0xde, 0xad].into()))),
            json!("0xDEAD")
        );
    }

    #[test]
    fn dates_and_times_convert_to_iso_text() {
        // 2026-03-14 is 46093 days after 1900-01-01; 01:31:00 = 5460 s.
        let dt = DateTime::new(46_093, 5_460 * 300 + 150);
        assert_eq!(
            value(&ColumnData::DateTime(Some(dt))),
            json!("2026-03-14T01:31:00.5")
        );
        let date = Date::new(739_688); // days since 0001-01-01
        assert_eq!(value(&ColumnData::Date(Some(date))), json!("2026-03-14"));
        let time = Time::new(54_600_000_001, 7);
        assert_eq!(
            value(&ColumnData::Time(Some(time))),
            json!("01:31:00.0000001")
        );
        let dt2 = DateTime2::new(date, Time::new(5_460, 0));
        assert_eq!(
            value(&ColumnData::DateTime2(Some(dt2))),
            json!("2026-03-14T01:31:00")
        );
        let off = DateTimeOffset::new(dt2, -300);
        assert_eq!(
            value(&ColumnData::DateTimeOffset(Some(off))),
            json!("2026-03-13T20:31:00-05:00")
        );
    }
}
