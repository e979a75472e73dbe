//! `drillbook lab init|show|fault|advance`.

use super::{load_estate, Env};
use crate::error::Result;
use crate::target::lab::{Lab, LabState};
use clap::Subcommand;
use std::path::PathBuf;

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
    /// share-unreachable[:UNC], log-backup-missing[:FILE],
    /// log-backup-damaged[:FILE]; repairs site-up:SITE, instance-up:ID,
    /// witness-up:ID, pool-up:FQDN, edge-up:FQDN, link-up:SITE-SITE,
    /// share-reachable[:UNC])
    Fault {
        #[arg(required = true)]
        faults: Vec<String>,
    },
    /// Let simulated time pass in normal operation (jobs and user traffic)
    Advance { minutes: u64 },
}

pub fn run(env: &Env, cmd: LabCommand) -> Result<i32> {
    let path = crate::run::lab_path(&env.home);
    match cmd {
        LabCommand::Init { estate } => {
            let estate = load_estate(estate.as_ref())?;
            Lab::create(&path, LabState::from_estate(&estate))?;
            if !env.json {
                println!("lab created from {} at {}", estate.source, path.display());
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
            let mut lab = Lab::open(&path)?;
            // All or nothing: a bad fault name leaves the lab as it was.
            let mut state = lab.state.clone();
            let mut done = Vec::new();
            for f in &faults {
                done.push(format!("{f}: {}", state.apply_fault(f)?));
            }
            lab.state = state;
            lab.save()?;
            if !env.json {
                for d in done {
                    println!("{d}");
                }
            }
        }
        LabCommand::Advance { minutes } => {
            let mut lab = Lab::open(&path)?;
            lab.state.advance(minutes * 60);
            lab.save()?;
            if !env.json {
                println!("lab clock now {}", lab.state.clock.now);
            }
        }
    }
    Ok(0)
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
