//! Secrets: SQL passwords, and anything else that must never be seen.
//!
//! A `Secret` cannot be printed (its `Debug` and `Display` say `<redacted>`),
//! has no `Serialize`, so it cannot reach a journal, a report or a JSON
//! event, and is overwritten when dropped (`zeroize`: volatile writes the
//! compiler may not drop as dead stores, over the whole allocation). Code that needs the text asks for
//! it with `expose()`, which is easy to audit: only the SQL connector does.
//!
//! Passwords come from an environment variable or a credentials file; a
//! credentials file that others could read is refused, as ssh refuses a key.

use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(text: String) -> Secret {
        Secret(Zeroizing::new(text))
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// Does `text` contain this secret? For checks that a message is clean.
    pub fn appears_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(self.0.as_str())
    }

    /// The value of an environment variable.
    pub fn from_env(var: &str) -> Result<Secret, SecretError> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            Ok(_) => Err(SecretError::EnvEmpty {
                var: var.to_string(),
            }),
            Err(std::env::VarError::NotPresent) => Err(SecretError::EnvMissing {
                var: var.to_string(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::EnvNotUnicode {
                var: var.to_string(),
            }),
        }
    }

    /// The first line of a credentials file that only its owner can read.
    pub fn from_file(path: &Path) -> Result<Secret, SecretError> {
        check_private(path)?;
        // The file's full text is zeroed when dropped; only the first line lives on.
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|e| SecretError::File {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?,
            );
        let first = Secret::new(text.lines().next().unwrap_or("").to_string());
        if first.0.is_empty() {
            return Err(SecretError::File {
                path: path.to_path_buf(),
                message: "the first line is empty; it must hold the password".into(),
            });
        }
        Ok(first)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a secret could not be read. Never holds the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    EnvMissing { var: String },
    EnvEmpty { var: String },
    EnvNotUnicode { var: String },
    File { path: PathBuf, message: String },
    Exposed { path: PathBuf, mode: u32 },
}

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretError::EnvMissing { var } => {
                write!(f, "the environment variable {var} is not set")
            }
            SecretError::EnvEmpty { var } => write!(f, "the environment variable {var} is empty"),
            SecretError::EnvNotUnicode { var } => {
                write!(f, "the environment variable {var} is not valid Unicode")
            }
            SecretError::File { path, message } => {
                write!(f, "credentials file {}: {message}", path.display())
            }
            SecretError::Exposed { path, mode } => write!(
                f,
                "credentials file {} has mode {mode:04o}: it is readable by others than its owner; \
                 `chmod 600 {}` it",
                path.display(),
                path.display()
            ),
        }
    }
}

/// Refuse a credentials file that its group or others can read or write.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| SecretError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretError::Exposed {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// On Windows, ACLs protect the file; there is no mode to check.
#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), SecretError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_text() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(Secret(<redacted>))");
        assert_eq!(s.expose(), "hunter2");
        assert!(s.appears_in("xx hunter2 xx") && !s.appears_in("hunter"));
    }

    #[cfg(unix)]
    #[test]
    fn credentials_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = Secret::from_file(&path).unwrap_err();
        assert!(matches!(err, SecretError::Exposed { mode: 0o640, .. }));
        assert!(!err.to_string().contains("s3cret"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "s3cret");
        std::fs::write(&path, "\n").unwrap();
        assert!(Secret::from_file(&path).is_err());
    }

    #[test]
    fn env_errors_name_the_variable_only() {
        let err = Secret::from_env("DRILLBOOK_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the environment variable DRILLBOOK_TEST_SURELY_UNSET_VAR is not set"
        );
    }
}
