//! Log sequence numbers. SQL Server shows an LSN as `numeric(25,0)`, so a
//! long-lived database's can pass 64 bits; the lab holds them as `u128`.
//! In the lab file and in answers an LSN is a JSON integer while it fits
//! in 64 bits and a decimal string beyond, as the live target reads a
//! `numeric` that does not fit in i64.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// An LSN.
pub type Lsn = u128;

/// What `lsn-beyond-64-bits` adds to every LSN of the lab: 2^64.
pub const BEYOND_64_BITS: Lsn = 1 << 64;

/// An LSN as a JSON value: an integer while it fits in 64 bits, else its
/// decimal digits.
pub fn value(lsn: Lsn) -> Value {
    match u64::try_from(lsn) {
        Ok(n) => Value::from(n),
        Err(_) => Value::String(lsn.to_string()),
    }
}

/// Serialize an LSN field as [`value`] does (`#[serde(with = "lsn")]`).
pub fn serialize<S: Serializer>(lsn: &Lsn, s: S) -> Result<S::Ok, S::Error> {
    value(*lsn).serialize(s)
}

/// Read an LSN field written by [`serialize`] (or an older lab file's integer).
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Lsn, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().map(Lsn::from).ok_or_else(|| {
            serde::de::Error::custom(format!("an LSN is a whole number ≥ 0, not {n}"))
        }),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("LSN {s} is too large"))),
        other => Err(serde::de::Error::custom(format!(
            "an LSN is a whole number or its decimal digits, not {other}"
        ))),
    }
}

impl crate::lab::LabState {
    /// The `lsn-beyond-64-bits` fault: every LSN of the lab (each database
    /// copy's, each log-shipping primary's last backup, each backup file's)
    /// moves up by 2^64, as in a database whose log has wrapped past 64
    /// bits of `numeric(25,0)`. Every copy moves alike, so what restores
    /// onto what is unchanged.
    pub(in crate::lab) fn lsn_beyond_64_bits(&mut self) -> Result<String, String> {
        let mut moved = 0usize;
        for inst in self.sql.values_mut() {
            for db in inst.databases.values_mut() {
                db.lsn = db.lsn.saturating_add(BEYOND_64_BITS);
                moved += 1;
            }
            for p in inst.msdb.log_shipping_primary.values_mut() {
                p.last_backup_lsn = p.last_backup_lsn.saturating_add(BEYOND_64_BITS);
            }
        }
        for (_, folder) in self.folders.iter_mut() {
            let names: Vec<String> = folder.files.keys().cloned().collect();
            for name in names {
                if let Some(f) = folder.files.get_mut(&name) {
                    f.first_lsn = f.first_lsn.saturating_add(BEYOND_64_BITS);
                    f.last_lsn = f.last_lsn.saturating_add(BEYOND_64_BITS);
                }
            }
        }
        Ok(format!(
            "the LSNs of {moved} database copies (and their log backups) moved past 64 bits (+2^64)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Held {
        #[serde(with = "super")]
        lsn: Lsn,
    }

    #[test]
    fn lsns_round_trip_as_integers_then_decimal_strings() {
        for lsn in [
            34_000_000_010_000_001u128,
            u64::MAX as u128,
            BEYOND_64_BITS + 34_000_000_010_000_001,
        ] {
            let json = serde_json::to_string(&Held { lsn }).unwrap();
            assert_eq!(serde_json::from_str::<Held>(&json).unwrap(), Held { lsn });
        }
        assert_eq!(
            value(BEYOND_64_BITS),
            Value::String("18446744073709551616".into())
        );
        assert_eq!(value(42), Value::from(42));
        assert!(serde_json::from_str::<Held>(r#"{"lsn":-1}"#).is_err());
        assert!(serde_json::from_str::<Held>(r#"{"lsn":"12a"}"#).is_err());
    }
}
