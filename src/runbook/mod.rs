//! Runbooks: finding them, reading their header, validating parameters, and
//! listing their steps without running them.
//!
//! A runbook is a `.rhai` file whose first statement is `runbook(#{...});`.
//! Its identity is (name, version, sha256 of the text): the journal pins all
//! three, so a resumed run knows it runs the text it started with.
//!
//! `discovery` finds runbooks (shipped, local folder, path), `header` reads
//! the header (and the drill scenarios it ships), `params` validates
//! parameters against the header's schema and the estate, `lint` lists the
//! static steps and what `drillbook check` verifies beyond compiling.

mod deep;
mod discovery;
mod header;
mod lint;
mod params;
pub mod scenario;

pub use discovery::{all, set_hash, shipped};
pub use header::Header;
pub use lint::StaticStep;
pub use params::{resolve_params, split_assignment, ParamKind, ParamSpec};
pub use scenario::{pick, LeadIn, Scenario, Setup, SetupAction, DEFAULT_SCENARIO};

use crate::engine;
use crate::error::{Error, Result};
use crate::estate::sha256_hex;
use rhai::AST;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Runbook {
    /// What the user typed, or the id of a shipped runbook.
    pub id: String,
    /// `shipped` or the path it was read from.
    pub origin: String,
    /// For messages: `runbooks/<id>.rhai` or the path.
    pub file: String,
    pub text: String,
    pub sha256: String,
    pub header: Header,
    pub ast: AST,
    /// `stdlib/` beside a local runbook: its own modules, importable too.
    pub local_stdlib: Option<PathBuf>,
}

impl Runbook {
    pub fn from_text(id: &str, origin: &str, file: &str, text: String) -> Result<Runbook> {
        let engine = engine::sandboxed_engine(None);
        let ast = engine.compile(&text).map_err(|e| {
            let pos = e.position();
            Error::RunbookSyntax {
                file: file.to_string(),
                line: pos.line().unwrap_or(1),
                col: pos.position().unwrap_or(1),
                message: e.err_type().to_string(),
            }
        })?;
        let header = header::read_header(&ast, file)?;
        Ok(Runbook {
            id: id.to_string(),
            origin: origin.to_string(),
            file: file.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            text,
            header,
            ast,
            local_stdlib: None,
        })
    }
}
