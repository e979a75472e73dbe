//! `drillbook new NAME [--from RUNBOOK]`: a runbook to start from, written
//! as `NAME.rhai` (in `--runbooks DIR`, else the current directory): a
//! header with a parameter and a drill scenario with an expectation, and one
//! step; or a copy of another runbook under the new name. Then the commands
//! that check, plan, drill and test it.

use super::Env;
use crate::error::{Error, Result};
use crate::runbook::{shipped, Runbook};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The runbook's name (lowercase words joined by '-'); the file is NAME.rhai
    pub name: String,
    /// Start from a copy of this runbook (shipped or local) instead of the scaffold
    #[arg(long, value_name = "RUNBOOK")]
    pub from: Option<String>,
}

const SCAFFOLD: &str = r#"// NAME: what this procedure does, and the documentation it follows.
runbook(#{
    name: "NAME",
    version: "0.1.0",
    summary: "Check that the Persistent Chat pool is in its normal state",
    rto_minutes: 5,
    params: #{
        pool: #{ kind: "persistent_chat_pool", help: "the Persistent Chat pool (defaults to the estate's only one)" },
    },
    scenarios: #{
        "default": #{
            summary: "a healthy estate after 10 minutes of normal traffic",
            lead_in_minutes: 10,
            expect: #{ "/lync/persistent_chat/pchat.litwareinc.com/state": "Normal" },
        },
    },
});

let pc = estate.persistent_chat_pool(params.pool);

step("check the pool state", || {
    let state = chat::state(pc);
    log(`${pc.fqdn} is ${state}`);
    require(state == "Normal", `${pc.fqdn} is ${state}, not Normal`);
    state
});
"#;

pub fn run(env: &Env, args: NewArgs) -> Result<i32> {
    let name = &args.name;
    let good = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if !good {
        return Err(super::usage(format!(
            "`{name}` cannot name a runbook: use lowercase letters, digits and '-' (e.g. team-pc-check)"
        )));
    }
    if shipped().iter().any(|(id, _)| id == name) {
        return Err(super::usage(format!(
            "`{name}` is a shipped runbook: choose another name, or `drillbook new my-{name} --from {name}`"
        )));
    }
    let text = match &args.from {
        None => SCAFFOLD.replace("NAME", name),
        Some(from) => {
            let rb = Runbook::find(from, env.runbooks.as_deref())?;
            renamed(&rb, name)?
        }
    };
    let dir = env.runbooks.clone().unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!("{name}.rhai"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
    // Parse what was written, so a broken scaffold never reaches the author.
    Runbook::from_file(name, &path)?;
    let p = path.display();
    println!("wrote {p}");
    println!("next:");
    println!("  drillbook check {p}          # compile and validate");
    println!("  drillbook plan {p}           # every change it would make; nothing changes");
    println!("  drillbook --yes drill {p}    # its default scenario on a fresh lab, measured");
    println!("  drillbook test {p}           # every scenario as a test");
    Ok(0)
}

/// The runbook's text with the header's name replaced (and the version
/// restarted at 0.1.0): the copy is a new runbook, not the old one.
fn renamed(rb: &Runbook, name: &str) -> Result<String> {
    let old_name = format!("name: \"{}\"", rb.header.name);
    let old_version = format!("version: \"{}\"", rb.header.version);
    if !rb.text.contains(&old_name) {
        return Err(super::usage(format!(
            "{}: cannot find `{old_name}` in its header to rename it",
            rb.file
        )));
    }
    Ok(rb
        .text
        .replacen(&old_name, &format!("name: \"{name}\""), 1)
        .replacen(&old_version, "version: \"0.1.0\"", 1))
}
