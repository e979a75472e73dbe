//! Live file ops: shares (UNC paths) reached through the local mount points
//! the estate names (`[live.mounts]`). This is the live target's own
//! `FileStore`; whoever opens it may pass another (the lab twin serves no
//! SMB, so behind it file ops go to the lab file, through the twin's `LabFile`).
//!
//! A copy goes to `NAME.partial` (the kernel's `copy_file_range`), is
//! checked against the source's size as opened, fdatasynced, renamed over
//! `NAME`, and the directory is fsynced: when the op answers, the file and
//! its name survive a power loss, and a crash at any point never leaves
//! part of a file under `NAME`. A size mismatch is copied again once before
//! the op fails, and never takes the final name.

use crate::op::{join_path, wildcard_match, Op};
use crate::targets::ports::FileStore;
use crate::targets::OpError;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

/// UNC prefix → local directory.
#[derive(Debug, Clone, Default)]
pub struct Mounts(pub BTreeMap<String, PathBuf>);

fn file_error(path: &str, message: impl Into<String>) -> OpError {
    OpError::File {
        path: path.to_string(),
        message: message.into(),
    }
}

/// `\\server\share\a\b` → its components, refusing `.` and `..`.
fn components(path: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = path.split('\\').filter(|p| !p.is_empty()).collect();
    parts
        .iter()
        .all(|p| *p != "." && *p != ".." && !p.contains('/') && !p.contains('\0'))
        .then_some(parts)
}

impl Mounts {
    /// The local path of a UNC path, through the longest matching mount.
    pub fn local(&self, unc: &str) -> Result<PathBuf, OpError> {
        let want = components(unc)
            .ok_or_else(|| file_error(unc, "the path has a `.` or `..` component"))?;
        let mut best: Option<(usize, &PathBuf)> = None;
        for (prefix, dir) in &self.0 {
            let Some(pre) = components(prefix) else {
                continue;
            };
            let matches = pre.len() <= want.len()
                && pre
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b));
            if matches && best.is_none_or(|(n, _)| pre.len() > n) {
                best = Some((pre.len(), dir));
            }
        }
        let Some((n, dir)) = best else {
            return Err(file_error(
                unc,
                "The network path was not found. (no [live.mounts] entry covers it)",
            ));
        };
        let mut local = dir.clone();
        for part in &want[n..] {
            local.push(part);
        }
        Ok(local)
    }
}

impl FileStore for Mounts {
    fn perform(&mut self, op: &Op) -> Result<Value, OpError> {
        match op {
            Op::ListFiles { folder, pattern } => list(self, folder, pattern),
            Op::CopyFile {
                from_folder,
                to_folder,
                file,
            } => copy(self, from_folder, to_folder, file),
            _ => Err(OpError::NotSimulated {
                message: "not a file op".into(),
            }),
        }
    }
}

fn list(mounts: &Mounts, folder: &str, pattern: &str) -> Result<Value, OpError> {
    let dir = mounts.local(folder)?;
    let entries = fs::read_dir(&dir).map_err(|e| {
        file_error(
            folder,
            format!("The network path was not found. ({}: {e})", dir.display()),
        )
    })?;
    let mut rows: Vec<(String, u64)> = Vec::new();
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if meta.is_file() && wildcard_match(pattern, &name) {
            rows.push((name, meta.len()));
        }
    }
    rows.sort();
    Ok(Value::Array(
        rows.into_iter()
            .map(|(name, size)| json!({"name": name, "size": size}))
            .collect(),
    ))
}

fn bar(total: u64, name: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template("    {bar:30} {bytes}/{total_bytes} {msg}") {
        bar.set_style(style);
    }
    bar.set_message(name.to_string());
    bar
}

/// How much one progress update covers; a file no larger is copied in one
/// call, without a bar.
const CHUNK: u64 = 16 << 20;

/// `to` with `.partial` appended: where a copy is written before it is
/// complete and durable.
fn partial_path(to: &Path) -> PathBuf {
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Copy the rest of `src` into `dst`; the number of bytes copied. Between
/// files `io::copy` lets the kernel copy (`copy_file_range` on Linux: no
/// round trip through user space); past `CHUNK` it goes a chunk at a time
/// so the bar moves.
fn copy_data(src: &File, dst: &mut File, size: u64, name: &str) -> io::Result<u64> {
    if size <= CHUNK {
        return io::copy(&mut &*src, dst);
    }
    let bar = bar(size, name);
    let mut written = 0u64;
    loop {
        let n = io::copy(&mut src.take(CHUNK), dst)?;
        if n == 0 {
            break;
        }
        written += n;
        bar.set_position(written);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// Why an attempt did not put the copy in place.
enum Attempt {
    /// The bytes copied are not the source's size as it was opened (it
    /// grew or shrank meanwhile): nothing was renamed.
    Mismatch(String),
    /// The source could not be opened.
    Source(io::Error),
    Failed(io::Error),
}

/// One copy of `from` to `to`: into `to.partial` (one open of each file),
/// its data fdatasynced, renamed over `to`, the directory fsynced. When it
/// returns `Ok`, the file and its name survive a power loss; a crash at any
/// point leaves at most a `.partial` file beside a whole earlier copy, never
/// part of a file under its final name.
fn copy_once(from: &Path, to: &Path, name: &str) -> Result<u64, Attempt> {
    let src = File::open(from).map_err(Attempt::Source)?;
    let size = src.metadata().map_err(Attempt::Source)?.len();
    let partial = partial_path(to);
    let mut dst = File::create(&partial).map_err(Attempt::Failed)?;
    let written = copy_data(&src, &mut dst, size, name).map_err(Attempt::Failed)?;
    if written != size {
        drop(dst);
        let _ = fs::remove_file(&partial);
        return Err(Attempt::Mismatch(format!(
            "copied {written} bytes of {size}"
        )));
    }
    dst.sync_data().map_err(Attempt::Failed)?;
    drop(dst);
    fs::rename(&partial, to).map_err(Attempt::Failed)?;
    crate::durable::sync_dir(to.parent().unwrap_or(Path::new("."))).map_err(Attempt::Failed)?;
    Ok(written)
}

fn copy(mounts: &Mounts, from_folder: &str, to_folder: &str, file: &str) -> Result<Value, OpError> {
    let (unc_from, unc_to) = (join_path(from_folder, file), join_path(to_folder, file));
    let src = mounts.local(&unc_from)?;
    let dst = mounts.local(&unc_to)?;
    let mut last = String::new();
    for _attempt in 0..2 {
        match copy_once(&src, &dst, file) {
            Ok(size) => return Ok(json!([{"name": file, "size": size}])),
            Err(Attempt::Mismatch(m)) => last = m,
            Err(Attempt::Source(e)) => {
                return Err(file_error(&unc_from, format!("{} ({e})", src.display())))
            }
            Err(Attempt::Failed(e)) => {
                return Err(file_error(
                    &unc_to,
                    format!("copy from {} to {}: {e}", src.display(), dst.display()),
                ))
            }
        }
    }
    Err(file_error(
        &unc_to,
        format!("the copy does not match the source after two attempts: {last}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Mounts) {
        let dir = tempfile::tempdir().unwrap();
        let share = dir.path().join("share");
        let copy = dir.path().join("copy");
        fs::create_dir_all(share.join("sub")).unwrap();
        fs::create_dir_all(&copy).unwrap();
        fs::write(share.join("mgc_20260314010500.trn"), vec![7u8; 3000]).unwrap();
        fs::write(share.join("mgc_20260314011000.trn"), vec![8u8; 10]).unwrap();
        fs::write(share.join("other.bak"), b"x").unwrap();
        let mounts = BTreeMap::from([
            ("\\\\fs.x\\logs".to_string(), share),
            ("\\\\SQL.x\\LSCopy\\".to_string(), copy),
        ]);
        (dir, Mounts(mounts))
    }

    #[test]
    fn unc_paths_map_through_the_longest_mount_and_refuse_dot_dot() {
        let (dir, mut mounts) = setup();
        mounts
            .0
            .insert("\\\\fs.x\\logs\\sub".into(), dir.path().join("elsewhere"));
        assert_eq!(
            mounts.local("\\\\FS.X\\logs\\a.trn").unwrap(),
            dir.path().join("share").join("a.trn")
        );
        assert_eq!(
            mounts.local("\\\\fs.x\\logs\\sub\\b").unwrap(),
            dir.path().join("elsewhere").join("b")
        );
        assert!(mounts.local("\\\\fs.x\\logs\\..\\etc").is_err());
        assert!(matches!(
            mounts.local("\\\\nowhere\\x"),
            Err(OpError::File { .. })
        ));
    }

    #[test]
    fn list_and_copy_through_mounts() {
        let (dir, mut files) = setup();
        let listed = files
            .perform(&Op::ListFiles {
                folder: "\\\\fs.x\\logs".into(),
                pattern: "MGC_*.trn".into(),
            })
            .unwrap();
        assert_eq!(
            listed,
            json!([{"name": "mgc_20260314010500.trn", "size": 3000}, {"name": "mgc_20260314011000.trn", "size": 10}])
        );
        let copy = Op::CopyFile {
            from_folder: "\\\\fs.x\\logs".into(),
            to_folder: "\\\\sql.x\\lscopy".into(),
            file: "mgc_20260314010500.trn".into(),
        };
        // A short leftover of an earlier attempt is replaced.
        fs::write(dir.path().join("copy/mgc_20260314010500.trn"), b"short").unwrap();
        assert_eq!(
            files.perform(&copy).unwrap(),
            json!([{"name": "mgc_20260314010500.trn", "size": 3000}])
        );
        assert_eq!(
            fs::read(dir.path().join("copy/mgc_20260314010500.trn")).unwrap(),
            vec![7u8; 3000]
        );
        let missing = Op::CopyFile {
            from_folder: "\\\\fs.x\\logs".into(),
            to_folder: "\\\\sql.x\\lscopy".into(),
            file: "nope.trn".into(),
        };
        assert!(matches!(files.perform(&missing), Err(OpError::File { .. })));
        fs::remove_dir_all(dir.path().join("share")).unwrap();
        let gone = files.perform(&Op::ListFiles {
            folder: "\\\\fs.x\\logs".into(),
            pattern: "*".into(),
        });
        assert!(
            matches!(&gone, Err(OpError::File { message, .. }) if message.starts_with("The network path was not found")),
            "{gone:?}"
        );
    }

    fn one_copy(from: &str, to: &str, file: &str) -> Op {
        Op::CopyFile {
            from_folder: from.into(),
            to_folder: to.into(),
            file: file.into(),
        }
    }

    #[test]
    fn a_file_larger_than_a_progress_chunk_is_copied_whole() {
        let (dir, mut files) = setup();
        let data: Vec<u8> = (0..CHUNK + 5).map(|i| (i % 251) as u8).collect();
        fs::write(dir.path().join("share/big.bak"), &data).unwrap();
        let copied = files
            .perform(&one_copy("\\\\fs.x\\logs", "\\\\sql.x\\lscopy", "big.bak"))
            .unwrap();
        assert_eq!(copied, json!([{"name": "big.bak", "size": CHUNK + 5}]));
        assert!(fs::read(dir.path().join("copy/big.bak")).unwrap() == data);
        assert!(!dir.path().join("copy/big.bak.partial").exists());
    }

    /// A source whose content is not its size as opened (one growing under
    /// the copy; here a /proc file, which stats as 0 bytes) never takes the
    /// final name: the earlier copy there stays, and no `.partial` is left.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_copy_that_does_not_match_its_source_never_takes_the_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Mounts(BTreeMap::from([
            ("\\\\fs.x\\proc".to_string(), PathBuf::from("/proc")),
            ("\\\\sql.x\\lscopy".to_string(), dir.path().to_path_buf()),
        ]));
        fs::write(dir.path().join("version"), b"earlier").unwrap();
        let failed = files.perform(&one_copy("\\\\fs.x\\proc", "\\\\sql.x\\lscopy", "version"));
        assert!(
            matches!(&failed, Err(OpError::File { path, message })
                if path == "\\\\sql.x\\lscopy\\version"
                    && message.starts_with("the copy does not match the source after two attempts: copied ")),
            "{failed:?}"
        );
        assert_eq!(fs::read(dir.path().join("version")).unwrap(), b"earlier");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// The copy `copy_is_synced_before_and_after_its_rename` traces, in a
    /// process of its own (this test binary, run again under strace).
    #[test]
    #[ignore = "a helper: copy_is_synced_before_and_after_its_rename runs it under strace"]
    fn copy_under_strace() {
        let Some(dir) = std::env::var_os("DRILLBOOK_TRACED_COPY") else {
            return;
        };
        let dir = PathBuf::from(dir);
        let mut files = Mounts(BTreeMap::from([
            ("\\\\fs.x\\logs".to_string(), dir.join("share")),
            ("\\\\sql.x\\lscopy".to_string(), dir.join("copy")),
        ]));
        files
            .perform(&one_copy("\\\\fs.x\\logs", "\\\\sql.x\\lscopy", "a.trn"))
            .unwrap();
    }

    /// The durability order as the kernel sees it (strace, Debian `strace`):
    /// the copy's data is synced before its rename, the directory after it,
    /// so the answer comes when the file and its name survive a power loss.
    #[cfg(target_os = "linux")]
    #[test]
    fn copy_is_synced_before_and_after_its_rename() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("share")).unwrap();
        fs::create_dir_all(dir.path().join("copy")).unwrap();
        fs::write(dir.path().join("share/a.trn"), vec![1u8; 5000]).unwrap();
        let trace = dir.path().join("trace");
        let out = std::process::Command::new("strace")
            .args(["-f", "-y", "-qq", "-o"])
            .arg(&trace)
            .args(["-e", "trace=fsync,fdatasync,rename,renameat,renameat2"])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", "live::files::tests::copy_under_strace"])
            .args(["--ignored", "--test-threads=1"])
            .env("DRILLBOOK_TRACED_COPY", dir.path())
            .output()
            .expect("strace (Debian strace) runs");
        let said = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && said.contains("ptrace") {
            // A sandbox that forbids tracing (seccomp, a container without
            // CAP_SYS_PTRACE): nothing can be seen here, so say so loudly.
            eprintln!("NOT CHECKED: strace cannot trace in this sandbox: {said}");
            return;
        }
        assert!(out.status.success(), "{out:?}");
        let copy = dir.path().join("copy");
        let (file, partial) = (copy.join("a.trn"), copy.join("a.trn.partial"));
        let names = [(&partial, "partial"), (&file, "file"), (&copy, "dir")];
        let calls: Vec<String> = fs::read_to_string(&trace)
            .unwrap()
            .lines()
            .filter_map(|line| {
                // `[PID ]call(args) = result`; args name paths, fds as `N</path>`.
                let line = line.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
                let (call, args) = line.split_once('(')?;
                let paths: Vec<&str> = names
                    .iter()
                    .filter(|(p, _)| {
                        let p = p.display().to_string();
                        args.contains(&format!("<{p}>")) || args.contains(&format!("\"{p}\""))
                    })
                    .map(|(_, name)| *name)
                    .collect();
                (!paths.is_empty()).then(|| format!("{call} {}", paths.join(" ")))
            })
            .collect();
        let synced =
            |c: &str, what: &str| c == format!("fdatasync {what}") || c == format!("fsync {what}");
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(synced(&calls[0], "partial"), "{calls:?}");
        assert!(
            calls[1].starts_with("rename") && calls[1].ends_with(" partial file"),
            "{calls:?}"
        );
        assert!(synced(&calls[2], "dir"), "{calls:?}");
        assert_eq!(fs::read(&file).unwrap(), vec![1u8; 5000]);
    }
}
