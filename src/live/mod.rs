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
//!
//! Where file ops go and where waits and manual steps happen are ports
//! (`targets::ports`) the opener passes: `Live::ports` gives the real
//! estate's (mounts, wall clock, the person's own hands); `cli::target`
//! passes the lab file's instead when the estate is the lab twin's. So this module
//! knows nothing of the lab or the twin, and a reader of the code that
//! talks to production servers need not understand the simulator.

mod answered;
pub mod browser;
pub mod config;
pub mod connect;
pub mod files;
pub mod outcome;
pub mod powershell;
pub mod rows;
pub mod shell_answer;
pub mod sql;

use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::op::Op;
use crate::targets::ports::{Clock, Ports};
use crate::targets::{OpError, Performed, SqlSession, Target};
use std::path::PathBuf;
use std::time::Duration;

pub struct Live {
    rt: tokio::runtime::Runtime,
    sql: sql::Sql,
    shell: powershell::Shell,
    ports: Ports,
}

/// The real estate's clock: a wait sleeps, and a manual step was done by
/// the person who confirmed it, so it performs nothing.
pub struct WallClock;

impl Clock for WallClock {
    fn perform(&mut self, op: &Op) -> Result<Performed> {
        if let Op::Wait { seconds } = op {
            std::thread::sleep(Duration::from_secs(*seconds));
        }
        Ok(Performed {
            result: Ok(serde_json::Value::Null),
            sim_seconds: 0,
            logs: Vec::new(),
        })
    }
}

impl Live {
    /// The real estate's ports: shares through `[live.mounts]`, the wall clock.
    pub fn ports(settings: &config::LiveSettings) -> Ports {
        let mounts = settings
            .mounts
            .iter()
            .map(|(unc, dir)| (unc.clone(), PathBuf::from(dir)))
            .collect();
        Ports {
            files: Box::new(files::Mounts(mounts)),
            clock: Box::new(WallClock),
        }
    }

    /// Resolve every instance's connection settings and password now, so a
    /// missing secret stops the run before its first op. Nothing connects yet.
    /// A plan's live target: SQL sessions log in with
    /// ApplicationIntent=ReadOnly and the shell is told it only reads.
    pub fn read_only(mut self) -> Live {
        for ep in self.sql.endpoints.values_mut() {
            ep.read_only = true;
        }
        self.shell.read_only = true;
        self
    }

    pub fn open(estate: &Estate, config: config::LiveConfig, ports: Ports) -> Result<Live> {
        let mut sql = sql::Sql::default();
        for (id, inst) in &estate.file.sql {
            let ep = connect::Endpoint::from_estate(estate, id, inst, &config.sql[id])?;
            sql.endpoints.insert(id.clone(), ep);
        }
        let live = config.live;
        let shell = powershell::Shell {
            command: live.shell.clone(),
            session: live.session,
            timeout: Duration::from_secs(live.shell_timeout_seconds.max(1)),
            read_only: false,
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
            ports,
        })
    }
}

impl Target for Live {
    fn name(&self) -> String {
        "live".to_string()
    }

    fn session(&mut self, op: &Op) -> Option<SqlSession> {
        match op {
            Op::Wait { .. }
            | Op::Manual { .. }
            | Op::ListFiles { .. }
            | Op::CopyFiles { .. }
            | Op::Cmdlet { .. } => None,
            _ => self.sql.session(&self.rt, op),
        }
    }

    fn still_running(
        &mut self,
        session: &SqlSession,
    ) -> std::result::Result<Option<String>, OpError> {
        self.sql.still_running(&self.rt, session)
    }

    fn perform(&mut self, op: &Op) -> Result<Performed> {
        let mut logs = Vec::new();
        let result = match op {
            Op::Wait { .. } | Op::Manual { .. } => self.ports.clock.perform(op)?.result,
            Op::ListFiles { .. } | Op::CopyFiles { .. } => self.ports.files.perform(op),
            Op::Cmdlet { .. } => {
                let (result, printed) = self.shell.perform(op);
                logs = printed;
                result
            }
            _ => self.sql.perform(&self.rt, op),
        };
        Ok(Performed {
            result,
            sim_seconds: 0,
            logs,
        })
    }
}
