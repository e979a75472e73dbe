//! Opening a run's target: the one place that knows every kind. The lab is
//! a file under the home folder; live is the estate's servers, reached with
//! the settings `live::config` reads, and behind the lab twin its file ops,
//! waits and manual steps go to the twin's lab file (`twin::LabFile`), so a
//! live run against the twin ends where a lab run ends. Wiring that here
//! keeps `live` ignorant of the simulator and `run` ignorant of both.

use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::lab::Lab;
use crate::live::{config::LiveConfig, Live};
use crate::targets::Target;
use std::path::Path;

/// The target a journal or command line names.
pub fn open(home: &Path, name: &str, estate: &Estate) -> Result<Box<dyn Target>> {
    match name {
        "lab" => Ok(Box::new(Lab::open(&crate::run::lab_path(home))?)),
        "live" => live(estate),
        other => Err(Error::Usage {
            message: format!("target `{other}` does not exist: use --target lab or --target live"),
        }),
    }
}

/// The live target for `estate`, with the twin's lab file behind it when the
/// estate is one `lab serve` wrote (`[live] lab_files`).
pub fn live(estate: &Estate) -> Result<Box<dyn Target>> {
    open_live(estate, false)
}

/// The live target of a plan: it only reads, and says so to SQL Server
/// (ApplicationIntent=ReadOnly), the shell and the twin's lab file.
pub fn live_reads_only(estate: &Estate) -> Result<Box<dyn Target>> {
    open_live(estate, true)
}

fn open_live(estate: &Estate, read_only: bool) -> Result<Box<dyn Target>> {
    let config = LiveConfig::from_estate(estate)?;
    let ports = match &config.live.lab_files {
        Some(path) => crate::twin::LabFile::ports(Path::new(path), read_only),
        None => Live::ports(&config.live),
    };
    let live = Live::open(estate, config, ports)?;
    Ok(Box::new(if read_only { live.read_only() } else { live }))
}
