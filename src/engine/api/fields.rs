//! The fields of the maps the estate methods hand out (a pool, an instance,
//! a Persistent Chat pool, an Edge pool, a site...), with their types, for
//! `drillbook api`. A test builds every object from the built-in estate and
//! compares its keys with these lists, so the reference cannot drift.

/// One field of an estate object.
pub struct Field {
    pub name: &'static str,
    /// As a script sees it: `string`, `int`, `bool`, `array of string`,
    /// `instance`, `string or ()`...
    pub ty: &'static str,
    pub doc: &'static str,
}

/// One kind of map the estate hands out.
pub struct Object {
    pub name: &'static str,
    /// A script expression that yields one on the built-in estate (which
    /// has no design findings, so `finding` has none).
    pub example: Option<&'static str>,
    pub doc: &'static str,
    pub fields: &'static [Field],
}

macro_rules! fields {
    ($(($name:expr, $ty:expr, $doc:expr)),* $(,)?) => {
        &[$(Field { name: $name, ty: $ty, doc: $doc }),*]
    };
}

pub const OBJECTS: &[Object] = &[
    Object {
        name: "pool",
        example: Some("estate.pool(estate.pools()[0])"),
        doc: "A Front End pool: estate.pool(fqdn).",
        fields: fields![
            ("fqdn", "string", "The pool's FQDN."),
            ("site", "string", "The site (data center) it is in."),
            ("edition", "string", "Enterprise or Standard."),
            ("backup_pool", "string or ()", "The paired pool (Topology Builder), or ()."),
            ("hosts_cms", "bool", "Does it host the Central Management Store?"),
            ("edge_pool", "string or ()", "The Edge pool its media and federation go through, or ()."),
            ("front_ends", "array of string", "The Front End servers' FQDNs."),
            ("users", "int", "Users homed on the pool."),
            ("back_end", "back_end", "Its back-end SQL Server."),
        ],
    },
    Object {
        name: "back_end",
        example: Some("estate.pool(estate.pools()[0]).back_end"),
        doc: "A pool's back end: pool.back_end.",
        fields: fields![
            ("ha", "string", "How it is kept available: mirroring or none."),
            ("mirroring", "string", "synchronous, asynchronous or none."),
            ("principal", "instance", "The primary instance."),
            ("mirror", "instance or ()", "The mirror instance, or ()."),
            ("witness", "string or ()", "The witness instance id, or ()."),
        ],
    },
    Object {
        name: "instance",
        example: Some("estate.instance(estate.instances()[0])"),
        doc: "A SQL Server instance: estate.instance(id), pool.back_end.principal.",
        fields: fields![
            ("instance", "string", "The instance id in the estate file."),
            ("server", "string", "The server's FQDN."),
            ("sql_instance", "string or ()", "The named instance, or () for the default one."),
            ("sql_name", "string", "SERVER\\INSTANCE as SQL Server names it."),
            ("site", "string", "The site of its server."),
        ],
    },
    Object {
        name: "database",
        example: Some("estate.persistent_chat_pool(estate.persistent_chat_pools()[0]).mgc.primary"),
        doc: "A database on an instance, what sql:: and logship:: take: an instance's fields and the database.",
        fields: fields![
            ("instance", "string", "The instance id in the estate file."),
            ("database", "string", "The database name."),
            ("server", "string", "The server's FQDN."),
            ("sql_instance", "string or ()", "The named instance, or ()."),
            ("sql_name", "string", "SERVER\\INSTANCE."),
            ("site", "string", "The site of its server."),
        ],
    },
    Object {
        name: "persistent_chat_pool",
        example: Some("estate.persistent_chat_pool(estate.persistent_chat_pools()[0])"),
        doc: "A Persistent Chat pool: estate.persistent_chat_pool(fqdn), what chat:: takes.",
        fields: fields![
            ("fqdn", "string", "The pool's FQDN."),
            ("servers", "array of #{fqdn, site}", "Every server of the pool, with its site."),
            ("active_servers", "array of string", "The active servers (at most 4)."),
            ("mgc", "mgc", "Where the mgc database lives."),
            ("mgccomp", "mgc", "Where the mgccomp (compliance) database lives: the same instances, database mgccomp."),
            ("low_latency", "map of site -> array of site", "The sites each site has a low-latency link to."),
            ("primary_site", "string", "The primary database's site."),
            ("backup_site", "string", "The backup database's site."),
            ("share", "string", "The log-shipping share (UNC)."),
            ("copy_folder", "string", "Where the secondary copies log backups to."),
            ("shell_host", "string", "The management host in the backup site (where a failover acts from)."),
        ],
    },
    Object {
        name: "mgc",
        example: Some("estate.persistent_chat_pool(estate.persistent_chat_pools()[0]).mgc"),
        doc: "A Persistent Chat pool's mgc database layout: pc.mgc.",
        fields: fields![
            ("primary", "database", "The primary database."),
            ("mirror", "database or ()", "Its mirror, or ()."),
            ("witness", "string or ()", "The primary's witness instance id, or ()."),
            ("backup", "database", "The log-shipping backup database."),
            ("backup_mirror", "database or ()", "The backup's mirror, or ()."),
            ("backup_witness", "string or ()", "The backup mirror's witness, or ()."),
        ],
    },
    Object {
        name: "edge_pool",
        example: Some("estate.edge_pool(estate.edge_pools()[0])"),
        doc: "An Edge pool: estate.edge_pool(fqdn).",
        fields: fields![
            ("fqdn", "string", "The pool's FQDN."),
            ("site", "string", "The site it is in."),
            ("servers", "array of string", "The Edge servers' FQDNs."),
            ("federation", "bool", "Does it carry federation?"),
            ("next_hop", "string", "The Front End pool it routes to."),
        ],
    },
    Object {
        name: "site",
        example: Some("estate.site(estate.sites()[0])"),
        doc: "A site (data center): estate.site(name).",
        fields: fields![
            ("name", "string", "The site's name."),
            ("description", "string", "What the estate file says of it."),
            ("management_host", "string", "Where Lync Management Shell cmdlets run when the site acts."),
            ("xmpp_federation_route", "string or ()", "The Edge pool it routes XMPP federation through, or ()."),
            ("low_latency_to", "array of string", "Sites it has a low-latency link to."),
        ],
    },
    Object {
        name: "finding",
        example: None,
        doc: "A design finding: estate.findings()[i].",
        fields: fields![
            ("rule", "string", "The design rule's id."),
            ("objects", "array of string", "The estate objects involved."),
            ("message", "string", "What the documentation says and what the estate does."),
        ],
    },
];
