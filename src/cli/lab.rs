//! `drillbook lab init|show|fault|advance|generate|serve|pwsh`. The commands
//! that change the lab file take its estate's change lock first, like a run.

use super::{load_estate, Env};
use crate::error::{Error, Result};
use crate::journal::Lock;
use crate::lab::{Applied, Lab, LabEvent, LabState};
use crate::live::config::{Encryption, LiveSettings, ShellSession, SqlConnection};
use crate::twin::tls::Offer;
use crate::twin::{pwsh, serve, Limits, ServeOptions, Served};
use clap::Subcommand;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// Create the lab state from an estate (replaces any existing lab)
    Init {
        #[arg(long, value_name = "FILE")]
        estate: Option<PathBuf>,
    },
    /// Print the lab state (`--json` for the whole document)
    Show,
    /// Inject faults and repairs: KIND or KIND:TARGET (primary-site-down,
    /// site-down:SITE, instance-down:ID, witness-down:ID, pool-down:FQDN,
    /// edge-down:FQDN, link-down:SITE-SITE, mirroring-off:POOL,
    /// conference-content-lost:POOL, log-shipping-off:CHAT_POOL,
    /// share-unreachable[:UNC], log-backup-missing[:FILE],
    /// log-backup-damaged[:FILE], lsn-beyond-64-bits, stale-job-activity:ID;
    /// repairs site-up:SITE, instance-up:ID,
    /// witness-up:ID, pool-up:FQDN, edge-up:FQDN, link-up:SITE-SITE,
    /// share-reachable[:UNC])
    Fault {
        #[arg(required = true)]
        faults: Vec<String>,
    },
    /// Let simulated time pass in normal operation (jobs and user traffic)
    Advance { minutes: u64 },
    /// Draw a valid estate from the documented topology space (the same
    /// estate for the same seed) and write it as an estate file
    Generate {
        #[arg(long)]
        seed: u64,
        /// Where to write it [default: stdout]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Serve the lab over TDS on 127.0.0.1 (one port per SQL instance) and
    /// write a live estate file pointing at it, for `run --target live`
    Serve {
        /// The estate the lab was built from [default: the built-in litware estate]
        #[arg(long, value_name = "FILE")]
        estate: Option<PathBuf>,
        /// Where to write the live estate [default: <home>/lab/live-estate.toml]
        #[arg(long, value_name = "FILE")]
        estate_out: Option<PathBuf>,
        /// Stop after this many seconds (it also stops when the estate file is deleted)
        #[arg(long, value_name = "N")]
        for_seconds: Option<u64>,
        /// The SQL login the twin accepts
        #[arg(long, default_value = "drillbook")]
        login: String,
        /// The environment variable holding the login's password (read now, and by `run`)
        #[arg(long, default_value = "DRILLBOOK_LAB_SQL_PASSWORD", value_name = "VAR")]
        password_env: String,
        /// command_timeout_seconds written for each instance
        #[arg(long, default_value_t = 60, value_name = "N")]
        command_timeout_seconds: u64,
        /// shell_timeout_seconds written for the PowerShell stand-in
        #[arg(long, default_value_t = 60, value_name = "N")]
        shell_timeout_seconds: u64,
        /// Connections each SQL endpoint holds open at once (more are closed unanswered)
        #[arg(long, default_value_t = 64, value_name = "N")]
        max_connections: usize,
        /// Seconds a new connection has to finish its login
        #[arg(long, default_value_t = 10, value_name = "N")]
        login_timeout_seconds: u64,
        /// Seconds a logged-in session may stay silent before it is closed
        #[arg(long, default_value_t = 600, value_name = "N")]
        idle_timeout_seconds: u64,
        /// The encryption the live estate asks for, and the twin's TLS:
        /// not_supported (no TLS), off (TLS around the login only, the twin
        /// has a certificate) or required (the twin forces TLS). With TLS,
        /// the twin's CA is written beside the estate and named as its ca_file
        #[arg(long, default_value = "not_supported", value_name = "LEVEL", value_parser = ["not_supported", "off", "required"])]
        encryption: String,
        /// Speak TLS as SQL Server 2008 R2/2012 without the TLS 1.2 update
        /// does: TLS 1.0 only; the estate asks for encryption = 'required'
        #[arg(long)]
        tls10_only: bool,
        /// Answer SQL Browser (SSRP over UDP, one port per lab server) and
        /// leave named instances' ports out of the estate (browser_port instead)
        #[arg(long)]
        browser: bool,
        /// The login's default database, as one that cannot be opened (a user
        /// database a failover left RESTORING): a client that names no
        /// database is refused with 4064, as SQL Server refuses it
        #[arg(long, value_name = "NAME")]
        login_default_database: Option<String>,
    },
    /// The Lync Management Shell stand-in, as strict as Windows PowerShell
    /// 5.1: reads a script on stdin and answers its cmdlet from the lab
    /// (what `lab serve`'s estate runs)
    Pwsh {
        /// The host a local session runs on (a remote session's URI names its own)
        #[arg(long, value_name = "FQDN")]
        host: Option<String>,
    },
}

/// The longest `lab advance`: the lab simulates every minute it passes.
pub const MAX_ADVANCE_MINUTES: u64 = 7 * 24 * 60;

pub fn run(env: &Env, cmd: LabCommand) -> Result<i32> {
    let path = crate::run::lab_path(&env.home);
    match cmd {
        LabCommand::Init { estate } => {
            let estate = load_estate(estate.as_ref())?;
            // The new estate's lock, and the old lab's (its runs lose their lab).
            let mut scopes = vec![estate.file.estate.name.clone()];
            scopes.extend(lab_estate(&path));
            let _held = hold(env, &scopes, "lab init")?;
            let _lock = crate::lab::lock(&path)?;
            Lab::create(&path, LabState::from_estate(&estate))?;
            if !env.json {
                println!("lab created from {} at {}", estate.source, path.display());
            }
        }
        LabCommand::Generate { seed, out } => {
            let text = crate::estate::generate::generate_toml(seed);
            match out {
                Some(path) => std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?,
                None => print!("{text}"),
            }
        }
        LabCommand::Show => {
            let lab = Lab::open(&path)?;
            if env.json {
                print!("{}", lab.state.to_json());
            } else {
                print_summary(&lab.state);
            }
        }
        LabCommand::Fault { faults } => {
            let _held = hold(env, lab_estate(&path).as_slice(), "lab fault")?;
            // All or nothing: a bad fault name leaves the lab as it was.
            let done = match Lab::open(&path)?.record(LabEvent::Faults(faults), true)? {
                Applied::Faulted(lines) => lines,
                _ => Vec::new(),
            };
            for (fault, what) in done {
                crate::report::brief::report_fault(env.reporter.as_ref(), &fault, &what);
            }
        }
        LabCommand::Advance { minutes } => {
            if minutes > MAX_ADVANCE_MINUTES {
                return Err(super::usage(format!(
                    "lab advance {minutes}: at most {MAX_ADVANCE_MINUTES} minutes (a week) at a time; \
                     the lab simulates every minute, so advance in steps if you need more"
                )));
            }
            let _held = hold(env, lab_estate(&path).as_slice(), "lab advance")?;
            let mut lab = Lab::open(&path)?;
            lab.record(LabEvent::Advance(minutes * 60), true)?;
            let now = lab.state.clock.now.clone();
            if !env.json {
                println!("lab clock now {now}");
            }
        }
        LabCommand::Serve {
            estate,
            estate_out,
            for_seconds,
            login,
            password_env,
            command_timeout_seconds,
            shell_timeout_seconds,
            max_connections,
            login_timeout_seconds,
            idle_timeout_seconds,
            encryption,
            tls10_only,
            browser,
            login_default_database,
        } => {
            let tls = match (encryption.as_str(), tls10_only) {
                (_, true) => Offer::Tls10Only,
                ("not_supported", _) => Offer::None,
                ("off", false) => Offer::Available,
                _ => Offer::Forced,
            };
            let opts = ServeOptions {
                lab_path: path,
                home: env.home.clone(),
                estate: load_estate(estate.as_ref())?,
                estate_out: estate_out
                    .unwrap_or_else(|| env.home.join("lab").join("live-estate.toml")),
                for_seconds,
                login,
                password_env,
                command_timeout_seconds: command_timeout_seconds.max(1),
                shell_timeout_seconds: shell_timeout_seconds.max(1),
                limits: Limits {
                    max_connections: max_connections.max(1),
                    login_timeout: Duration::from_secs(login_timeout_seconds.max(1)),
                    idle_timeout: Duration::from_secs(idle_timeout_seconds.max(1)),
                },
                tls,
                browser,
                login_default_database,
            };
            serve(opts, twin_estate, |line| {
                use std::io::Write;
                println!("{line}");
                let _ = std::io::stdout().flush();
            })?;
        }
        LabCommand::Pwsh { host } => return Ok(pwsh::run(&path, host.as_deref())),
    }
    Ok(0)
}

/// The estate the lab file was built from, if there is a readable one.
fn lab_estate(path: &std::path::Path) -> Option<String> {
    Lab::open(path)
        .ok()
        .map(|lab| lab.state.estate.name.clone())
}

/// Take the change lock of each estate named, for `what`: a lab command
/// waits for no run, it is refused (exit 4) while one holds the lock.
fn hold(env: &Env, scopes: &[String], what: &str) -> Result<Vec<Lock>> {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    scopes
        .iter()
        .map(|scope| Lock::acquire_brief(&env.home, scope, &super::operator(), what))
        .collect()
}

fn print_summary(s: &LabState) {
    println!(
        "clock {} (+{})",
        s.clock.now,
        crate::report::duration(s.clock.elapsed_seconds)
    );
    for (id, inst) in &s.sql {
        let dbs: Vec<String> = inst
            .databases
            .iter()
            .map(|(n, d)| match &d.mirroring {
                Some(m) => format!(
                    "{n} {} ({} {}, partner {})",
                    d.state, m.role, m.state, m.partner
                ),
                None => format!("{n} {}", d.state),
            })
            .collect();
        println!(
            "sql {id:14} {:9} {:4} {}",
            inst.site,
            if inst.up { "up" } else { "DOWN" },
            dbs.join("; ")
        );
    }
    for (pool, pc) in &s.lync.persistent_chat {
        println!(
            "persistent chat {pool}: {} active [{}]",
            pc.state,
            pc.active_servers.join(", ")
        );
    }
    for (pool, p) in &s.lync.pools {
        println!(
            "pool {pool}: {} {} · back end {} (principal {}) · users served by {}{}",
            p.state,
            if p.up { "up" } else { "DOWN" },
            if p.back_end.available {
                "available"
            } else {
                "UNAVAILABLE"
            },
            p.back_end.current_principal.as_deref().unwrap_or("none"),
            p.users.served_by,
            if p.users.resiliency_mode {
                " (RESILIENCY MODE)"
            } else {
                ""
            }
        );
    }
    if let Some(cms) = &s.lync.cms {
        println!("cms active in {}", cms.active_pool);
    }
    for (edge, e) in &s.lync.edge_pools {
        println!(
            "edge {edge}: {} · next hop {}{}",
            if e.up { "up" } else { "DOWN" },
            e.next_hop,
            if e.federation { " · federation" } else { "" }
        );
    }
    for f in &s.faults {
        println!("fault {} at +{}", f.fault, crate::report::duration(f.at));
    }
}

/// The live estate file that points at the twin: the lab's estate with each
/// SQL instance on its 127.0.0.1 port, and `[live]` naming this binary's
/// PowerShell stand-in and the lab file for file ops.
fn twin_estate(opts: &ServeOptions, served: &Served) -> Result<String> {
    let mut file = opts.estate.file.clone();
    let encryption = match opts.tls {
        Offer::None => Encryption::NotSupported,
        Offer::Available => Encryption::Off,
        Offer::Forced | Offer::Tls10Only => Encryption::Required,
    };
    for (id, inst) in file.sql.iter_mut() {
        inst.connection = SqlConnection {
            host: Some("127.0.0.1".into()),
            port: match served.browser_ports.get(id) {
                Some(_) => None,
                None => served.ports.get(id).copied(),
            },
            browser_port: served.browser_ports.get(id).copied(),
            encryption: Some(encryption),
            ca_file: served.ca_file.as_ref().map(|p| p.display().to_string()),
            connect_timeout_seconds: Some(5),
            command_timeout_seconds: Some(opts.command_timeout_seconds),
            login: Some(opts.login.clone()),
            password_env: Some(opts.password_env.clone()),
            ..SqlConnection::default()
        }
        .to_settings();
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("current executable", e))?;
    let home = std::fs::canonicalize(&opts.home).map_err(|e| Error::io(&opts.home, e))?;
    let lab = std::fs::canonicalize(&opts.lab_path).map_err(|e| Error::io(&opts.lab_path, e))?;
    file.live = Some(
        LiveSettings {
            shell: vec![
                exe.display().to_string(),
                "--home".into(),
                home.display().to_string(),
                "lab".into(),
                "pwsh".into(),
            ],
            // The stand-in learns each op's host from the session's URI.
            session: ShellSession::Remote,
            shell_timeout_seconds: opts.shell_timeout_seconds,
            mounts: BTreeMap::new(),
            lab_files: Some(lab.display().to_string()),
        }
        .to_settings(),
    );
    let body = toml::to_string(&file).map_err(|e| Error::LiveSetup {
        what: "lab serve".into(),
        message: format!("cannot write the live estate: {e}"),
    })?;
    Ok(format!(
        "# Written by `drillbook lab serve` for {}: a live estate whose SQL instances,\n\
         # Management Shell and shares are the lab twin. Valid while it serves.\n\n{body}",
        // Escaped, so no character of a path can end the comment.
        opts.estate.source.escape_default()
    ))
}
