//! The lab as a protocol twin: `drillbook lab serve` answers TDS on
//! 127.0.0.1, one endpoint per lab SQL instance, and `drillbook lab pwsh`
//! stands in for the Lync Server Management Shell — both backed by the lab
//! state file and `LabState::perform`, the same state machine `--target lab`
//! uses. So `run --target live` against the twin exercises the real live
//! code (tiberius, the shell runner) and reaches the same end state as
//! `run --target lab`.
//!
//! Every op takes the lab's file lock around load → perform → save, so the
//! serve process, stand-in processes and `lab fault` can share the file.
//!
//! `DRILLBOOK_LAB_STALL=PREFIX:SECONDS` (a testing aid, like
//! `DRILLBOOK_ABORT_AFTER_OPS`) makes the twin or the stand-in sleep that
//! long before performing a statement or cmdlet line that starts with
//! PREFIX, so tests can check timeouts. It is compiled only with the
//! `test-hooks` feature: an operator's release binary ignores the variable.
//! So is `DRILLBOOK_LAB_DROP_AFTER=N`: each connection is closed after N
//! requests, to test what the live target does with a dropped pooled one.

pub mod agent_jobs;
pub mod browser;
pub mod catalog;
pub mod chatter;
pub mod cmdlet_parse;
pub mod column_wire;
pub mod columns;
pub mod endpoint;
pub mod guard;
pub mod lab_file;
pub mod listener;
pub mod login_reply;
pub mod naming;
pub mod parse;
pub mod pwsh;
pub mod pwsh_script;
pub mod pwsh_shapes;
pub mod select_list;
pub mod tds;
pub mod tls;

pub use guard::Limits;
pub use lab_file::LabFile;

use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable of the stall testing aid.
pub const STALL_ENV: &str = "DRILLBOOK_LAB_STALL";

/// `PREFIX:SECONDS` from `DRILLBOOK_LAB_STALL`: a statement that takes
/// that long; asked `WITH STATS`, it says how far it is ("N percent
/// processed.") as it goes, otherwise it is silent, as a hung server is.
pub fn stall() -> Option<(String, Duration)> {
    prefix_seconds(STALL_ENV)
}

/// `PREFIX:SECONDS` from `var`, if set and well formed.
#[cfg(feature = "test-hooks")]
fn prefix_seconds(var: &str) -> Option<(String, Duration)> {
    let v = std::env::var(var).ok()?;
    let (prefix, secs) = v.rsplit_once(':')?;
    let secs: f64 = secs.trim().parse().ok()?;
    (!prefix.is_empty() && secs >= 0.0).then(|| (prefix.to_string(), Duration::from_secs_f64(secs)))
}

/// Without the `test-hooks` feature there is no stall.
#[cfg(not(feature = "test-hooks"))]
fn prefix_seconds(_: &str) -> Option<(String, Duration)> {
    None
}

/// The environment variable of the dropped-connection testing aid.
pub const DROP_AFTER_ENV: &str = "DRILLBOOK_LAB_DROP_AFTER";

/// `DRILLBOOK_LAB_DROP_AFTER=N`: the twin closes each connection after
/// answering N requests, as a firewall or a failover drops a pooled one.
#[cfg(feature = "test-hooks")]
pub fn drop_after() -> Option<u64> {
    std::env::var(DROP_AFTER_ENV)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

/// Without the `test-hooks` feature no connection is dropped on purpose.
#[cfg(not(feature = "test-hooks"))]
pub fn drop_after() -> Option<u64> {
    None
}

/// Does `text` start with the stall prefix (ignoring case and leading space)?
pub fn stalls(stall: &Option<(String, Duration)>, text: &str) -> Option<Duration> {
    let (prefix, d) = stall.as_ref()?;
    let head: String = text
        .trim_start()
        .chars()
        .take(prefix.chars().count())
        .collect();
    head.eq_ignore_ascii_case(prefix).then_some(*d)
}

/// What `lab serve` was asked.
pub struct ServeOptions {
    pub lab_path: PathBuf,
    pub home: PathBuf,
    pub estate: Estate,
    pub estate_out: PathBuf,
    pub for_seconds: Option<u64>,
    pub login: String,
    pub password_env: String,
    pub command_timeout_seconds: u64,
    pub shell_timeout_seconds: u64,
    /// Connections, login time and idle time each endpoint allows.
    pub limits: Limits,
    /// What TLS the twin offers (`--encryption`, `--tls10-only`).
    pub tls: tls::Offer,
    /// The login's default database, modeled as one that cannot be opened
    /// unless it is a system database (`--login-default-database`).
    pub login_default_database: Option<String>,
    /// Run a SQL Browser per lab server and leave named instances' ports
    /// out of the live estate (`--browser`).
    pub browser: bool,
}

/// Where the twin is served: what the live estate it writes points at.
pub struct Served {
    /// Each SQL instance's port on 127.0.0.1.
    pub ports: BTreeMap<String, u16>,
    /// The CA (PEM) that signed the twin's certificate, when it offers TLS.
    pub ca_file: Option<PathBuf>,
    /// The UDP port of the SQL Browser of each named instance's server, by
    /// instance id, with `--browser`.
    pub browser_ports: BTreeMap<String, u16>,
}

/// What every endpoint thread shares.
pub struct Twin {
    /// The lab, in memory for the life of the twin; each op takes in what
    /// other processes logged, then logs its own (`Lab::record`).
    pub lab: Mutex<crate::lab::Lab>,
    pub login: String,
    pub password: Secret,
    pub stall: Option<(String, Duration)>,
    pub next_spid: AtomicI64,
    /// Requests being performed now, by session id: (started, expected duration).
    pub in_flight: Mutex<BTreeMap<i64, (Instant, Duration)>>,
    /// Open sessions' login times, by session id (`sys.sysprocesses`).
    pub logins: Mutex<BTreeMap<i64, String>>,
    pub limits: Limits,
    pub tls: tls::Server,
    pub login_default_database: Option<String>,
    /// Each instance's major version (the estate's `version`), by id.
    pub majors: BTreeMap<String, u32>,
    /// Close a connection after this many requests (a testing aid).
    pub drop_after: Option<u64>,
}

impl Twin {
    /// The instance's major version (11, SQL Server 2012, when the estate says none).
    pub fn major(&self, instance: &str) -> u32 {
        self.majors.get(instance).copied().unwrap_or(11)
    }
}

/// Write a file atomically (a reader sees the old one or the whole new one).
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// One SQL Browser per server of the estate that has named instances, each
/// on its own UDP port (all the twin's hosts are 127.0.0.1); the port of
/// each named instance's browser, by instance id.
fn sql_browsers(
    twin: &Arc<Twin>,
    estate: &Estate,
    ports: &BTreeMap<String, u16>,
) -> Result<BTreeMap<String, u16>> {
    let mut hosts: BTreeMap<&str, Vec<browser::Listed>> = BTreeMap::new();
    for (id, inst) in &estate.file.sql {
        let (Some(instance), Some(&port)) = (&inst.instance, ports.get(id)) else {
            continue;
        };
        let computer = inst.server.split('.').next().unwrap_or(&inst.server);
        hosts
            .entry(&inst.server)
            .or_default()
            .push(browser::Listed {
                id: id.clone(),
                computer: computer.to_uppercase(),
                instance: instance.clone(),
                version: browser::version(inst.version.as_deref()),
                port,
            });
    }
    let mut by_id = BTreeMap::new();
    for listed in hosts.into_values() {
        let socket =
            UdpSocket::bind("127.0.0.1:0").map_err(|e| Error::io("127.0.0.1:0 (UDP)", e))?;
        let port = socket
            .local_addr()
            .map_err(|e| Error::io("127.0.0.1 (UDP)", e))?
            .port();
        for l in &listed {
            by_id.insert(l.id.clone(), port);
        }
        let twin = twin.clone();
        std::thread::spawn(move || browser::respond(twin, socket, listed));
    }
    Ok(by_id)
}

/// Serve until stopped: SIGTERM or ctrl-c end the process (each op was
/// logged under the lock, so nothing is lost), and it exits by itself when the
/// estate file it wrote is deleted or `for_seconds` have passed.
///
/// `live_estate` writes the text of the live estate that points at the
/// twin, given each instance's port and the CA file: the caller knows the
/// live settings' format, the twin does not.
pub fn serve(
    opts: ServeOptions,
    live_estate: impl FnOnce(&ServeOptions, &Served) -> Result<String>,
    announce: impl Fn(&str),
) -> Result<()> {
    let lab = crate::lab::Lab::open(&opts.lab_path)?;
    opts.estate
        .check_lab(&lab.state.estate.sha256, &opts.lab_path)?;
    let password = Secret::from_env(&opts.password_env).map_err(|e| Error::LiveSetup {
        what: "lab serve".into(),
        message: format!(
            "the password the twin accepts for login {:?}: {e}",
            opts.login
        ),
    })?;
    let instances: Vec<String> = lab.state.sql.keys().cloned().collect();
    let (tls, ca) = tls::Server::new(opts.tls).map_err(|message| Error::LiveSetup {
        what: "lab serve".into(),
        message,
    })?;
    // The CA beside the live estate, for its ca_file.
    let ca_file = opts.estate_out.with_extension("ca.pem");
    let ca_file = match ca {
        Some(pem) => {
            write_atomic(&ca_file, &pem)?;
            Some(std::path::absolute(&ca_file).map_err(|e| Error::io(&ca_file, e))?)
        }
        None => None,
    };
    let twin = Arc::new(Twin {
        lab: Mutex::new(lab),
        login: opts.login.clone(),
        password,
        stall: stall(),
        next_spid: AtomicI64::new(51),
        in_flight: Mutex::new(BTreeMap::new()),
        logins: Mutex::new(BTreeMap::new()),
        limits: opts.limits,
        tls,
        login_default_database: opts.login_default_database.clone(),
        majors: opts
            .estate
            .file
            .sql
            .iter()
            .map(|(id, i)| (id.clone(), catalog::major(i.version.as_deref())))
            .collect(),
        drop_after: drop_after(),
    });
    let mut ports = BTreeMap::new();
    let mut listeners = Vec::new();
    for id in &instances {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("127.0.0.1:0", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("127.0.0.1", e))?
            .port();
        ports.insert(id.clone(), port);
        listeners.push((id.clone(), listener));
    }
    let mut watched = listener::Watched::default();
    for (id, listener) in listeners {
        let twin = twin.clone();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(endpoint::is_down(
            &twin, &id,
        )));
        watched.down.insert(id.clone(), (down.clone(), ports[&id]));
        std::thread::spawn(move || endpoint::accept(twin, id, listener, down));
    }
    {
        let twin = twin.clone();
        std::thread::spawn(move || listener::watch(twin, watched));
    }
    let browser_ports = if opts.browser {
        sql_browsers(&twin, &opts.estate, &ports)?
    } else {
        BTreeMap::new()
    };
    let served = Served {
        ports,
        ca_file,
        browser_ports,
    };
    write_atomic(&opts.estate_out, &live_estate(&opts, &served)?)?;
    for (id, port) in &served.ports {
        announce(&format!("{id}: 127.0.0.1:{port}"));
    }
    announce(&format!(
        "serving lab {} · live estate {} · stop with ctrl-c, or delete that file",
        opts.lab_path.display(),
        opts.estate_out.display()
    ));
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if opts
            .for_seconds
            .is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
        {
            let _ = std::fs::remove_file(&opts.estate_out);
            return Ok(());
        }
        if !opts.estate_out.exists() {
            return Ok(());
        }
    }
}
