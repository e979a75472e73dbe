//! The live target: ops performed on the real estate. T-SQL goes to SQL
//! Server over TDS (tiberius, rustls), cmdlets to the Lync Server Management
//! Shell as a child process, file ops to shares through local mounts.
//!
//! One current-thread tokio runtime lives inside and every op is driven to
//! completion with `block_on`: runs are sequential, so nothing is gained by
//! letting async leak into the engine. Everything it needs to know about the
//! estate — addresses, encryption, logins, where the passwords are, the
//! shell command, mounts — comes from the estate file (`[sql.*]`, `[live]`),
//! read by `config`.

pub mod config;
pub mod connect;
pub mod files;
pub mod powershell;
pub mod rows;
pub mod sql;

use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::op::Op;
use crate::targets::{Performed, Target};
use std::path::PathBuf;
use std::time::Duration;

pub struct Live {
    rt: tokio::runtime::Runtime,
    sql: sql::Sql,
    shell: powershell::Shell,
    files: files::Files,
}

impl Live {
    /// Resolve every instance's connection settings and password now, so a
    /// missing secret stops the run before its first op. Nothing connects yet.
    pub fn open(estate: &Estate) -> Result<Live> {
        let config = config::LiveConfig::from_estate(estate)?;
        let mut sql = sql::Sql::default();
        for (id, inst) in &estate.file.sql {
            let ep = connect::Endpoint::from_estate(estate, id, inst, &config.sql[id])?;
            sql.endpoints.insert(id.clone(), ep);
        }
        let live = config.live;
        let shell = powershell::Shell {
            command: live.shell.clone(),
            timeout: Duration::from_secs(live.shell_timeout_seconds.max(1)),
        };
        let files = match &live.lab_files {
            Some(path) => files::Files::Lab(PathBuf::from(path)),
            None => files::Files::Mounts(
                live.mounts
                    .iter()
                    .map(|(unc, dir)| (unc.clone(), PathBuf::from(dir)))
                    .collect(),
            ),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::LiveSetup {
                what: "the live target".into(),
                message: format!("cannot start its I/O runtime: {e}"),
            })?;
        Ok(Live {
            rt,
            sql,
            shell,
            files,
        })
    }
}

impl Target for Live {
    fn name(&self) -> String {
        "live".to_string()
    }

    fn perform(&mut self, op: &Op) -> Result<Performed> {
        // Behind a lab twin, waiting and a person's work happen to the lab
        // (its clock, its documented effect), so live and lab agree.
        if let (Op::Wait { .. } | Op::Manual { .. }, files::Files::Lab(path)) = (op, &self.files) {
            let performed = crate::lab::Lab::perform_at(path, op)?;
            return Ok(Performed {
                sim_seconds: 0,
                ..performed
            });
        }
        let result = match op {
            Op::ListFiles { .. } | Op::CopyFile { .. } => self.files.perform(op),
            Op::Cmdlet { .. } => self.shell.perform(op),
            Op::Wait { seconds } => {
                std::thread::sleep(std::time::Duration::from_secs(*seconds));
                Ok(serde_json::Value::Null)
            }
            // The operator made this change by hand and confirmed it.
            Op::Manual { .. } => Ok(serde_json::Value::Null),
            _ => self.sql.perform(&self.rt, op),
        };
        Ok(Performed {
            result,
            sim_seconds: 0,
        })
    }
}
