//! Where runbooks come from: the shipped ones (embedded at build, so the
//! binary works from any directory and a shipped runbook's hash is fixed),
//! a local folder (`--runbooks DIR`), or a path to a `.rhai` file.

use super::Runbook;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/runbooks.rs"));
}

/// Shipped runbooks as (id, text).
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    embedded::RUNBOOKS
}

/// The hash of the shipped runbook set (every runbook and stdlib module,
/// by name and text): which procedures this binary carries, for
/// `--version` and for telling two builds' runbooks apart.
pub fn set_hash() -> String {
    let mut all: Vec<(String, &str)> = shipped()
        .iter()
        .map(|(id, t)| (format!("runbooks/{id}.rhai"), *t))
        .chain(
            crate::engine::stdlib()
                .iter()
                .map(|(n, t)| (format!("stdlib/{n}.rhai"), *t)),
        )
        .collect();
    all.sort();
    let mut bytes = Vec::new();
    for (name, text) in all {
        bytes.extend_from_slice(format!("{name}\0{}\0", text.len()).as_bytes());
        bytes.extend_from_slice(text.as_bytes());
    }
    crate::estate::sha256_hex(&bytes)
}

impl Runbook {
    /// Find a runbook by shipped id, local folder, or path.
    pub fn find(spec: &str, local_dir: Option<&Path>) -> Result<Runbook> {
        let path = Path::new(spec);
        if spec.ends_with(".rhai") || path.components().count() > 1 {
            return Runbook::from_file(spec, path);
        }
        if let Some(dir) = local_dir {
            let p = dir.join(format!("{spec}.rhai"));
            if p.exists() {
                return Runbook::from_file(spec, &p);
            }
        }
        if let Some((id, text)) = shipped().iter().find(|(id, _)| *id == spec) {
            return Runbook::from_text(
                id,
                "shipped",
                &format!("runbooks/{id}.rhai"),
                text.to_string(),
            );
        }
        let mut known: Vec<String> = shipped().iter().map(|(id, _)| id.to_string()).collect();
        if let Some(dir) = local_dir {
            known.extend(local_ids(dir)?);
        }
        Err(Error::UnknownRunbook {
            name: spec.to_string(),
            known,
        })
    }

    /// A local runbook file; its origin is the absolute path, so a resumed
    /// run finds it from any directory.
    pub fn from_file(id: &str, path: &Path) -> Result<Runbook> {
        let text = Error::read_text(path)?;
        let abs = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
        let mut rb = Runbook::from_text(
            id,
            &abs.display().to_string(),
            &path.display().to_string(),
            text,
        )?;
        rb.local_stdlib = abs.parent().map(|d| d.join("stdlib"));
        Ok(rb)
    }
}

impl Runbook {
    /// A local runbook may not take a shipped runbook's name (its journals
    /// and reports would read as the shipped procedure's) unless the
    /// operator says so (`--override`).
    pub fn refuse_shadowing(&self, allow: bool) -> Result<()> {
        let shipped_name = shipped().iter().any(|(id, _)| *id == self.header.name);
        if self.origin != "shipped" && shipped_name && !allow {
            return Err(Error::ShadowsShipped {
                file: self.file.clone(),
                name: self.header.name.clone(),
            });
        }
        Ok(())
    }
}

fn local_ids(dir: &Path) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => return Err(Error::io(dir, e)),
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "rhai") {
            if let Some(stem) = p.file_stem() {
                ids.push(stem.to_string_lossy().to_string());
            }
        }
    }
    ids.sort();
    Ok(ids)
}

/// All runbooks: shipped, then those in `local_dir`.
pub fn all(local_dir: Option<&Path>) -> Result<Vec<Runbook>> {
    let mut out = Vec::new();
    for (id, text) in shipped() {
        out.push(Runbook::from_text(
            id,
            "shipped",
            &format!("runbooks/{id}.rhai"),
            text.to_string(),
        )?);
    }
    if let Some(dir) = local_dir {
        for id in local_ids(dir)? {
            let p: PathBuf = dir.join(format!("{id}.rhai"));
            out.push(Runbook::from_file(&id, &p)?);
        }
    }
    Ok(out)
}
