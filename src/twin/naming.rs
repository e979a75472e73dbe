//! Names as SQL Server reports them: the lab keeps instances by the
//! estate's FQDN (`pcsql-red2.litwareinc.com\pchat`), a real server says
//! `@@SERVERNAME` and `mirroring_partner_instance` as `COMPUTER\INSTANCE`
//! (`PCSQL-RED2\pchat`). The twin answers the real form, so the live
//! client's comparisons meet what production sends.

use crate::estate::names::sql_server_name;
use serde_json::{Map, Value};

/// The columns that carry a server instance name.
const NAMED: [&str; 2] = ["server_name", "mirroring_partner_instance"];

/// `fqdn\instance` (or `fqdn`) as SQL Server names it; anything else as it is.
pub fn as_reported(name: &str) -> String {
    let (host, instance) = match name.split_once('\\') {
        Some((h, i)) => (h, Some(i)),
        None => (name, None),
    };
    if host.contains('.') {
        sql_server_name(host, instance)
    } else {
        name.to_string()
    }
}

/// The rows with their server instance names as SQL Server reports them.
pub fn report(rows: &mut [Map<String, Value>]) {
    for row in rows {
        for column in NAMED {
            if let Some(Value::String(name)) = row.get_mut(column) {
                *name = as_reported(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fqdns_become_computer_names_and_nothing_else_changes() {
        assert_eq!(
            as_reported("pcsql-red2.litwareinc.com\\pchat"),
            "PCSQL-RED2\\pchat"
        );
        assert_eq!(as_reported("besql-red1.litwareinc.com"), "BESQL-RED1");
        assert_eq!(as_reported("PCSQL-RED2\\pchat"), "PCSQL-RED2\\pchat");
        let mut rows = crate::targets::rows(json!([
            {"server_name": "a.b.c\\x", "name": "mgc.x\\y", "mirroring_partner_instance": null}
        ]));
        report(&mut rows);
        assert_eq!(rows[0]["server_name"], "A\\x");
        assert_eq!(rows[0]["name"], "mgc.x\\y");
        assert!(rows[0]["mirroring_partner_instance"].is_null());
    }
}
