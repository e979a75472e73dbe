//! Host and record names as the estate file writes them: fully qualified
//! domain names (servers, pools) and DNS owner names (which may carry the
//! `_service._proto` labels of SRV records). Checked on load and when a
//! manual step changes a DNS record in the lab.

/// Is `name` a syntactically valid fully qualified domain name?
pub fn is_fqdn(name: &str) -> bool {
    name.len() <= 253
        && name.contains('.')
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Is `name` a DNS name: an FQDN whose labels may start with `_` (SRV owners).
pub fn is_dns_name(name: &str) -> bool {
    let plain = name
        .split('.')
        .map(|l| l.strip_prefix('_').unwrap_or(l))
        .collect::<Vec<_>>()
        .join(".");
    is_fqdn(&plain)
}

/// A SQL instance as SQL Server names itself (`@@SERVERNAME`,
/// `sys.database_mirroring.mirroring_partner_instance`): the computer name
/// (the host's first DNS label, upper case as Windows sets it), then
/// `\\INSTANCE` for a named instance.
pub fn sql_server_name(server: &str, instance: Option<&str>) -> String {
    let computer = server.split('.').next().unwrap_or(server).to_uppercase();
    match instance {
        Some(i) => format!("{computer}\\{i}"),
        None => computer,
    }
}

/// Does a name SQL Server reported (`COMPUTER\\INSTANCE`, or a host name
/// in any form) name the estate's instance on `server`? Computer and
/// instance names are compared case-insensitively, as Windows and SQL
/// Server do; a default instance may be reported as MSSQLSERVER.
pub fn same_sql_instance(reported: &str, server: &str, instance: Option<&str>) -> bool {
    let (host, inst) = match reported.split_once('\\') {
        Some((h, i)) => (h, Some(i)),
        None => (reported, None),
    };
    let computer = |h: &str| h.split('.').next().unwrap_or(h).to_ascii_lowercase();
    let named = |i: Option<&str>| {
        i.filter(|i| !i.eq_ignore_ascii_case("MSSQLSERVER"))
            .map(str::to_ascii_lowercase)
    };
    !host.is_empty() && computer(host) == computer(server) && named(inst) == named(instance)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sql_server_names_compare_as_sql_server_reports_them() {
        use super::{same_sql_instance as same, sql_server_name};
        let fqdn = "pcsql-red2.litwareinc.com";
        assert_eq!(sql_server_name(fqdn, Some("pchat")), "PCSQL-RED2\\pchat");
        assert_eq!(sql_server_name(fqdn, None), "PCSQL-RED2");
        assert!(same("PCSQL-RED2\\PCHAT", fqdn, Some("pchat")));
        assert!(same(
            "pcsql-red2.litwareinc.com\\pchat",
            fqdn,
            Some("pchat")
        ));
        assert!(same("PCSQL-RED2", fqdn, None));
        assert!(same("PCSQL-RED2\\MSSQLSERVER", fqdn, None));
        assert!(!same("PCSQL-RED1\\PCHAT", fqdn, Some("pchat")));
        assert!(!same("PCSQL-RED2\\OTHER", fqdn, Some("pchat")));
        assert!(!same("PCSQL-RED2", fqdn, Some("pchat")));
        assert!(!same("", fqdn, None));
    }

    use super::*;

    #[test]
    fn fqdn_check() {
        assert!(is_fqdn("pchat.litwareinc.com"));
        assert!(!is_fqdn("pchat"));
        assert!(!is_fqdn("a..b"));
        assert!(!is_fqdn("a;b.c"));
    }

    #[test]
    fn srv_owner_names_are_dns_names() {
        assert!(is_dns_name("_xmpp-server._tcp.litwareinc.com"));
        assert!(!is_dns_name("_x"));
    }
}
