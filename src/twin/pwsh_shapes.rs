//! What Windows PowerShell 5.1 really prints, for the strict stand-in:
//! ConvertTo-Json's own shapes for the values the lab gives as text, and
//! the OEM code page (CP437) a console process reads its stdin in, and
//! writes unless the script sets UTF-8.
//!
//! The lab answers in the normalized forms drillbook's script asks for
//! (TimeSpan `hh:mm:ss`, dates `YYYY-MM-DDTHH:MM:SSZ`); without that
//! normalization a real shell gives a TimeSpan as an object of its
//! properties and a date as `"\/Date(<ms since 1970>)\/"`. Enums (numbers
//! in 5.1) are not modeled: the lab does not know which strings are enums.

use serde_json::{json, Value};

/// `hh:mm:ss` or `d.hh:mm:ss`, as seconds.
fn timespan_seconds(text: &str) -> Option<i64> {
    let (days, hms) = match text.split_once('.') {
        Some((d, rest)) => (d.parse::<i64>().ok()?, rest),
        None => (0, text),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    if [h, m, s].iter().any(|p| p.len() != 2) {
        return None;
    }
    let (h, m, s): (i64, i64, i64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    (h < 24 && m < 60 && s < 60).then_some(((days * 24 + h) * 60 + m) * 60 + s)
}

/// A TimeSpan as ConvertTo-Json prints it in Windows PowerShell 5.1.
fn timespan_object(seconds: i64) -> Value {
    let total = seconds as f64;
    json!({
        "Ticks": seconds * 10_000_000,
        "Days": seconds / 86_400,
        "Hours": seconds / 3600 % 24,
        "Milliseconds": 0,
        "Minutes": seconds / 60 % 60,
        "Seconds": seconds % 60,
        "TotalDays": total / 86_400.0,
        "TotalHours": total / 3600.0,
        "TotalMilliseconds": seconds * 1000,
        "TotalMinutes": total / 60.0,
        "TotalSeconds": seconds,
    })
}

/// The marker a date string carries until [`to_json`] writes it as 5.1 does.
const DATE_MARK: &str = "\u{E000}Date(";

/// The value as ConvertTo-Json would shape it without normalization.
pub fn raw_shapes(v: &Value) -> Value {
    match v {
        Value::String(s) => {
            if let Some(secs) = timespan_seconds(s) {
                timespan_object(secs)
            } else if let Some(epoch) = crate::time::parse_rfc3339(s) {
                Value::String(format!("{DATE_MARK}{})", epoch * 1000))
            } else {
                v.clone()
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(raw_shapes).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), raw_shapes(v))).collect())
        }
        other => other.clone(),
    }
}

/// Compressed JSON, with dates written `"\/Date(ms)\/"` as 5.1 writes them.
pub fn to_json(v: &Value) -> String {
    let text = v.to_string();
    let mark = format!("\"{DATE_MARK}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&mark) {
        out.push_str(&rest[..at]);
        rest = &rest[at + mark.len()..];
        // Only digits up to the `)` the marker's value ends with.
        let end = rest.find(")\"").unwrap_or(rest.len());
        out.push_str("\"\\/Date(");
        out.push_str(&rest[..end]);
        out.push_str(")\\/\"");
        rest = rest.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// CP437's characters from 0x80 to 0xFF.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐\
└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}";

/// Text as a console in code page 437 writes it: what it cannot show is `?`.
pub fn oem_bytes(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                c as u8
            } else {
                CP437_HIGH
                    .chars()
                    .position(|h| h == c)
                    .map_or(b'?', |i| 0x80 + i as u8)
            }
        })
        .collect()
}

/// Bytes as a console in code page 437 reads them: what Windows PowerShell
/// makes of a script on stdin, whatever the script says about encodings
/// (UTF-8 `ü`, `C3 BC`, reads as `├╝`).
pub fn oem_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0..=0x7F => b as char,
            _ => CP437_HIGH.chars().nth(usize::from(b - 0x80)).unwrap_or('?'),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans_and_dates_take_their_real_shapes() {
        let v = raw_shapes(
            &json!({"SyncInterval": "00:02:00", "At": "2026-03-14T01:00:00Z", "Name": "x"}),
        );
        assert_eq!(v["SyncInterval"]["TotalSeconds"], 120);
        assert_eq!(v["SyncInterval"]["Minutes"], 2);
        assert_eq!(v["SyncInterval"]["Ticks"], 1_200_000_000i64);
        assert_eq!(v["Name"], "x");
        assert!(
            to_json(&v).contains("\"At\":\"\\/Date(1773450000000)\\/\""),
            "{}",
            to_json(&v)
        );
        assert_eq!(raw_shapes(&json!("1.02:03:04"))["TotalSeconds"], 93_784);
        assert_eq!(raw_shapes(&json!("25:00:00")), json!("25:00:00"));
    }

    #[test]
    fn the_oem_code_page_is_not_utf8() {
        assert_eq!(CP437_HIGH.chars().count(), 128);
        assert_eq!(oem_bytes("é ü"), vec![0x82, b' ', 0x81]);
        assert_eq!(oem_bytes("中"), b"?");
        assert_eq!(oem_text(&[0x82, b' ', 0x81]), "é ü");
        assert_eq!(oem_text("Zürich".as_bytes()), "Z├╝rich");
    }
}
