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

#[cfg(test)]
mod tests {
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
