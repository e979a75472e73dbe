//! How a column's SQL type and its values go on the wire (TDS TYPE_INFO in
//! COLMETADATA, then each value in a ROW), for the types `columns.rs` gives.

use super::columns::SqlType;
use super::tds::COLLATION;
use serde_json::Value;

/// A column's TYPE_INFO.
pub fn put_type_info(ty: SqlType, buf: &mut Vec<u8>) {
    match ty {
        SqlType::Int(n) => buf.extend_from_slice(&[0x26, n]),
        SqlType::Bit => buf.extend_from_slice(&[0x68, 1]),
        SqlType::Real => buf.extend_from_slice(&[0x6D, 4]),
        SqlType::Float => buf.extend_from_slice(&[0x6D, 8]),
        SqlType::DateTime => buf.extend_from_slice(&[0x6F, 8]),
        SqlType::Numeric(precision) => {
            buf.extend_from_slice(&[0x6C, numeric_len(precision), precision, 0])
        }
        SqlType::NVarChar { max } => {
            buf.push(0xE7);
            buf.extend_from_slice(&(if max { 0xFFFFu16 } else { 8000u16 }).to_le_bytes());
            buf.extend_from_slice(&COLLATION);
        }
    }
}

/// A bit's value: true/false, or 1/0 as the lab keeps some flags.
pub fn bit(v: &Value) -> Option<bool> {
    v.as_bool().or(match v.as_i64() {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    })
}

/// A whole number of a numeric(p, 0): a JSON integer, or a decimal string
/// for one beyond 64 bits (LSNs are numeric(25,0)).
pub fn whole(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
        Value::String(s) if !s.is_empty() && s.len() <= 38 => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        }
        _ => None,
    }
}

/// A value of a column of type `ty`.
pub fn put_value(ty: SqlType, buf: &mut Vec<u8>, v: &Value) {
    let null = v.is_null();
    match ty {
        SqlType::Int(n) => match v.as_i64().filter(|_| !null) {
            None => buf.push(0),
            Some(i) => {
                buf.push(n);
                buf.extend_from_slice(&i.to_le_bytes()[..n as usize]);
            }
        },
        SqlType::Bit => match bit(v) {
            None => buf.push(0),
            Some(b) => buf.extend_from_slice(&[1, b as u8]),
        },
        SqlType::Real => match v.as_f64().filter(|_| !null) {
            None => buf.push(0),
            Some(f) => {
                buf.push(4);
                buf.extend_from_slice(&(f as f32).to_le_bytes());
            }
        },
        SqlType::Float => match v.as_f64().filter(|_| !null) {
            None => buf.push(0),
            Some(f) => {
                buf.push(8);
                buf.extend_from_slice(&f.to_le_bytes());
            }
        },
        SqlType::DateTime => match v.as_str().and_then(crate::time::parse_rfc3339) {
            None => buf.push(0),
            Some(epoch) => {
                // Days since 1900-01-01 and 1/300 s ticks since midnight.
                let since_1900 = epoch + 2_208_988_800;
                let days = since_1900.div_euclid(86_400) as i32;
                let ticks = (since_1900.rem_euclid(86_400) * 300) as u32;
                buf.push(8);
                buf.extend_from_slice(&days.to_le_bytes());
                buf.extend_from_slice(&ticks.to_le_bytes());
            }
        },
        SqlType::Numeric(precision) => match whole(v).filter(|_| !null) {
            None => buf.push(0),
            Some(i) => {
                let len = numeric_len(precision);
                buf.push(len);
                buf.push(if i < 0 { 0 } else { 1 });
                let magnitude = i.unsigned_abs().to_le_bytes();
                buf.extend_from_slice(&magnitude[..(len - 1) as usize]);
            }
        },
        SqlType::NVarChar { max } => {
            let text = match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            let units: Option<Vec<u8>> =
                text.map(|t| t.encode_utf16().flat_map(|u| u.to_le_bytes()).collect());
            match (units, max) {
                (None, false) => buf.extend_from_slice(&0xFFFFu16.to_le_bytes()),
                (None, true) => buf.extend_from_slice(&u64::MAX.to_le_bytes()),
                (Some(b), false) => {
                    buf.extend_from_slice(&(b.len() as u16).to_le_bytes());
                    buf.extend_from_slice(&b);
                }
                (Some(b), true) => {
                    buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
                    if !b.is_empty() {
                        buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
                        buf.extend_from_slice(&b);
                    }
                    buf.extend_from_slice(&0u32.to_le_bytes());
                }
            }
        }
    }
}

/// Bytes of a DECIMAL/NUMERIC value (sign byte included) for a precision.
fn numeric_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numerics_take_integers_and_decimal_strings_beyond_64_bits() {
        assert_eq!(whole(&json!(42)), Some(42));
        assert_eq!(whole(&json!(u64::MAX)), Some(u64::MAX as i128));
        assert_eq!(
            whole(&json!("36893488147419103232")),
            Some(36_893_488_147_419_103_232)
        );
        assert_eq!(whole(&json!("1e5")), None);
        assert_eq!(whole(&json!("")), None);
        assert_eq!(whole(&json!(1.5)), None);
    }
}
