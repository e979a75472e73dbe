//! The SQL types the twin gives the lab's result columns, so a client reads
//! what SQL Server would send: the types of the catalog columns drillbook
//! reads (`session_id` a smallint, `restore_mode` a bit, LSNs numeric(25,0),
//! `percent_complete` a real, msdb dates datetime, names nvarchar). A column
//! whose values do not fit the type its name calls for falls back to what its
//! JSON values are. An empty result still has its columns (from the
//! statement's select list), as SQL Server sends them.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// INTN of 1, 2, 4 or 8 bytes: tinyint, smallint, int, bigint.
    Int(u8),
    Bit,
    /// float(24): 4 bytes.
    Real,
    Float,
    DateTime,
    /// numeric(p, 0).
    Numeric(u8),
    NVarChar {
        max: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: SqlType,
}

/// The type SQL Server's catalog gives a column of this name.
fn by_name(name: &str) -> Option<SqlType> {
    Some(match name {
        // sys.sysprocesses.spid, @@SPID, sys.dm_exec_*.session_id;
        // RESTORE HEADERONLY's BackupType and Position.
        "session_id" | "spid" | "BackupType" | "Position" => SqlType::Int(2),
        // sys.databases.state, the mirroring codes, a backup's DeviceType.
        "state"
        | "mirroring_role"
        | "mirroring_state"
        | "mirroring_safety_level"
        | "mirroring_witness_state"
        | "DeviceType" => SqlType::Int(1),
        "return_value" | "restore_delay" => SqlType::Int(4),
        // msdb.dbo.log_shipping_secondary_databases.restore_mode.
        "restore_mode" | "disconnect_users" | "HasBackupChecksums" | "IsCopyOnly" => SqlType::Bit,
        "FirstLSN" | "LastLSN" | "CheckpointLSN" | "DatabaseBackupLSN" | "redo_start_lsn" => {
            SqlType::Numeric(25)
        }
        "BackupSize" => SqlType::Numeric(20),
        // sys.dm_exec_requests.percent_complete.
        "percent_complete" => SqlType::Real,
        "login_time" | "BackupStartDate" | "BackupFinishDate" | "agent_start_date" => {
            SqlType::DateTime
        }
        n if n.ends_with("_date") => SqlType::DateTime,
        _ => return None,
    })
}

/// The columns of an empty result: each named column of the select list,
/// typed by its name (nvarchar when the name says nothing).
pub fn empty(names: &[String]) -> Vec<Column> {
    names
        .iter()
        .map(|name| Column {
            name: name.clone(),
            ty: by_name(name).unwrap_or(SqlType::NVarChar { max: false }),
        })
        .collect()
}

fn fits(ty: SqlType, v: &Value) -> bool {
    if v.is_null() {
        return true;
    }
    match ty {
        SqlType::Int(1) => v.as_i64().is_some_and(|i| (0..=255).contains(&i)),
        SqlType::Int(2) => v.as_i64().is_some_and(|i| i16::try_from(i).is_ok()),
        SqlType::Int(4) => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        SqlType::Int(_) => v.as_i64().is_some(),
        SqlType::Bit => super::column_wire::bit(v).is_some(),
        SqlType::Real | SqlType::Float => v.is_number(),
        SqlType::DateTime => v.as_str().and_then(crate::time::parse_rfc3339).is_some(),
        SqlType::Numeric(p) => super::column_wire::whole(v)
            .is_some_and(|i| i.unsigned_abs().checked_ilog10().unwrap_or(0) < u32::from(p)),
        SqlType::NVarChar { .. } => true,
    }
}

/// What the JSON values themselves are.
fn by_values(values: &[&Value]) -> SqlType {
    let present: Vec<&&Value> = values.iter().filter(|v| !v.is_null()).collect();
    if !present.is_empty() && present.iter().all(|v| v.is_i64()) {
        SqlType::Int(8)
    } else if !present.is_empty() && present.iter().all(|v| v.is_boolean()) {
        SqlType::Bit
    } else if !present.is_empty() && present.iter().all(|v| v.is_number()) {
        SqlType::Float
    } else {
        let longest = present
            .iter()
            .map(|v| match v {
                Value::String(s) => s.encode_utf16().count(),
                other => other.to_string().len(),
            })
            .max()
            .unwrap_or(0);
        SqlType::NVarChar {
            max: longest > 4000,
        }
    }
}

/// Columns (in the first row's order) and the values of every row.
pub fn shape(rows: &[Map<String, Value>]) -> (Vec<Column>, Vec<Vec<Value>>) {
    let names: Vec<String> = rows
        .first()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    let columns = names
        .iter()
        .map(|name| {
            let values: Vec<&Value> = rows
                .iter()
                .map(|r| r.get(name).unwrap_or(&Value::Null))
                .collect();
            let ty = by_name(name)
                .filter(|&t| values.iter().all(|v| fits(t, v)))
                .unwrap_or_else(|| by_values(&values));
            Column {
                name: name.clone(),
                ty,
            }
        })
        .collect();
    let values = rows
        .iter()
        .map(|r| {
            names
                .iter()
                .map(|n| r.get(n).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    (columns, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn catalog_columns_get_their_sql_types() {
        let (cols, vals) = shape(&[row(json!({
            "session_id": 61, "FirstLSN": 34000000010000001i64, "last_copied_date": "2026-03-14T01:31:00Z",
            "name": "mgc", "x": null
        }))]);
        let types: Vec<SqlType> = cols.iter().map(|c| c.ty).collect();
        assert_eq!(
            types,
            vec![
                SqlType::Int(2),
                SqlType::Numeric(25),
                SqlType::DateTime,
                SqlType::NVarChar { max: false },
                SqlType::NVarChar { max: false }
            ]
        );
        assert_eq!(vals[0][1], json!(34000000010000001i64));
    }

    #[test]
    fn lsns_beyond_64_bits_are_still_numeric_25() {
        let (cols, _) = shape(&[row(
            json!({"FirstLSN": "18480744073719551617", "LastLSN": "1e99"}),
        )]);
        assert_eq!(cols[0].ty, SqlType::Numeric(25));
        assert_eq!(cols[1].ty, SqlType::NVarChar { max: false });
    }

    #[test]
    fn values_that_do_not_fit_fall_back() {
        let (cols, _) = shape(&[row(
            json!({"session_id": "sixty-one", "last_copied_date": "yesterday"}),
        )]);
        assert!(cols
            .iter()
            .all(|c| c.ty == SqlType::NVarChar { max: false }));
    }
}
