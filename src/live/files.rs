//! Live file ops: shares (UNC paths) reached through the local mount points
//! the estate names (`[live.mounts]`). This is the live target's own
//! `FileStore`; whoever opens it may pass another (the lab twin serves no
//! SMB, so behind it file ops go to the lab file, through the twin's `LabFile`).
//!
//! A `CopyFiles` batch is all or nothing and durable when it answers. Every
//! source is opened first (a missing one fails the batch before anything is
//! written); each file goes to `NAME.partial` (the kernel's
//! `copy_file_range`), is checked against its source's size as opened, and
//! has its writeback started at once (Linux `sync_file_range`, as dpkg
//! does); then every partial is fdatasynced (by now mostly waiting on
//! writeback already done; on an SMB mount each sends its own FLUSH), then
//! each is renamed over `NAME`, then the directory is fsynced once. A crash
//! at any point leaves at most `.partial` files beside whole earlier copies,
//! never part of a file under its final name. A size mismatch is copied
//! again once, and never takes the final name; any failure removes the
//! batch's partials and renames nothing, so the step can simply run again.

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
            Op::CopyFiles {
                from_folder,
                to_folder,
                files,
            } => copy(self, from_folder, to_folder, files),
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

fn bar(total: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template("    {bar:30} {bytes}/{total_bytes} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// How much one progress update covers; a file no larger is copied in one call.
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
fn copy_data(src: &File, dst: &mut File, size: u64, bar: &ProgressBar) -> io::Result<u64> {
    if size <= CHUNK {
        let n = io::copy(&mut &*src, dst)?;
        bar.inc(n);
        return Ok(n);
    }
    let mut written = 0u64;
    loop {
        let n = io::copy(&mut src.take(CHUNK), dst)?;
        if n == 0 {
            break;
        }
        written += n;
        bar.inc(n);
    }
    Ok(written)
}

/// Ask the kernel to start writing `file`'s dirty pages now, without
/// waiting: the batch's fdatasyncs then mostly find the work done. A hint
/// only (the fdatasync that follows is the guarantee), so its failure is
/// not an error.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the whole call (borrowed from
    // `file`); sync_file_range reads no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File) {}

/// One file of a batch: its names, UNC and local.
struct Entry<'a> {
    name: &'a str,
    unc_from: String,
    unc_to: String,
    src: PathBuf,
    dst: PathBuf,
}

impl Entry<'_> {
    fn source_error(&self, e: io::Error) -> OpError {
        file_error(&self.unc_from, format!("{} ({e})", self.src.display()))
    }

    fn copy_error(&self, e: io::Error) -> OpError {
        file_error(
            &self.unc_to,
            format!(
                "copy from {} to {}: {e}",
                self.src.display(),
                self.dst.display()
            ),
        )
    }
}

/// The source opened, and its size as opened.
fn open_source(entry: &Entry) -> Result<(File, u64), OpError> {
    let src = File::open(&entry.src).map_err(|e| entry.source_error(e))?;
    let size = src.metadata().map_err(|e| entry.source_error(e))?.len();
    Ok((src, size))
}

/// Copy one opened source into its `.partial`, checked against the size
/// it had when opened; a mismatch (a file growing or shrinking under the
/// copy) is copied once more from a fresh open. The partial, still open,
/// with its writeback started.
fn write_partial(
    entry: &Entry,
    opened: (File, u64),
    partial: &Path,
    bar: &ProgressBar,
) -> Result<(File, u64), OpError> {
    let (mut src, mut size) = opened;
    let mut last = String::new();
    for attempt in 0..2 {
        if attempt > 0 {
            (src, size) = open_source(entry)?;
        }
        bar.set_message(entry.name.to_string());
        let mut dst = File::create(partial).map_err(|e| entry.copy_error(e))?;
        let written = copy_data(&src, &mut dst, size, bar).map_err(|e| entry.copy_error(e))?;
        if written == size {
            start_writeback(&dst);
            return Ok((dst, size));
        }
        last = format!("copied {written} bytes of {size}");
    }
    Err(file_error(
        &entry.unc_to,
        format!("the copy does not match the source after two attempts: {last}"),
    ))
}

fn copy(
    mounts: &Mounts,
    from_folder: &str,
    to_folder: &str,
    files: &[String],
) -> Result<Value, OpError> {
    let mut entries = Vec::with_capacity(files.len());
    for name in files {
        let (unc_from, unc_to) = (join_path(from_folder, name), join_path(to_folder, name));
        let src = mounts.local(&unc_from)?;
        let dst = mounts.local(&unc_to)?;
        entries.push(Entry {
            name,
            unc_from,
            unc_to,
            src,
            dst,
        });
    }
    // Every source first: a missing one fails the batch before anything is written.
    let opened = entries
        .iter()
        .map(open_source)
        .collect::<Result<Vec<_>, _>>()?;
    let bar = bar(opened.iter().map(|(_, size)| size).sum());
    let mut partials: Vec<PathBuf> = Vec::with_capacity(entries.len());
    let done = copy_batch(&entries, opened, &bar, &mut partials);
    bar.finish_and_clear();
    if done.is_err() {
        for partial in &partials {
            let _ = fs::remove_file(partial);
        }
    }
    let sizes = done?;
    Ok(Value::Array(
        entries
            .iter()
            .zip(sizes)
            .map(|(e, size)| json!({"name": e.name, "size": size}))
            .collect(),
    ))
}

/// The batch after its sources are open: every partial written, then every
/// partial's data synced, then the renames, then each destination directory
/// synced once. `partials` names what a failure must remove. The sizes copied.
fn copy_batch(
    entries: &[Entry],
    opened: Vec<(File, u64)>,
    bar: &ProgressBar,
    partials: &mut Vec<PathBuf>,
) -> Result<Vec<u64>, OpError> {
    let mut written = Vec::with_capacity(entries.len());
    for (entry, source) in entries.iter().zip(opened) {
        let partial = partial_path(&entry.dst);
        partials.push(partial.clone());
        written.push(write_partial(entry, source, &partial, bar)?);
    }
    for (entry, (dst, _)) in entries.iter().zip(&written) {
        dst.sync_data().map_err(|e| entry.copy_error(e))?;
    }
    let mut dirs: Vec<&Path> = Vec::new();
    for (entry, partial) in entries.iter().zip(partials.iter()) {
        fs::rename(partial, &entry.dst).map_err(|e| entry.copy_error(e))?;
        let dir = entry.dst.parent().unwrap_or(Path::new("."));
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    partials.clear();
    for dir in dirs {
        crate::durable::sync_dir(dir).map_err(|e| {
            file_error(
                &entries[0].unc_to,
                format!("sync of the folder {}: {e}", dir.display()),
            )
        })?;
    }
    Ok(written.into_iter().map(|(_, size)| size).collect())
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
        let copy = one_copy(
            "\\\\fs.x\\logs",
            "\\\\sql.x\\lscopy",
            "mgc_20260314010500.trn",
        );
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
        let missing = one_copy("\\\\fs.x\\logs", "\\\\sql.x\\lscopy", "nope.trn");
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
        batch(from, to, &[file])
    }

    fn batch(from: &str, to: &str, files: &[&str]) -> Op {
        Op::CopyFiles {
            from_folder: from.into(),
            to_folder: to.into(),
            files: files.iter().map(|f| f.to_string()).collect(),
        }
    }

    /// A batch from the setup's log share to its copy folder.
    fn logs_to_lscopy(files: &[&str]) -> Op {
        batch("\\\\fs.x\\logs", "\\\\sql.x\\lscopy", files)
    }

    #[test]
    fn a_batch_copies_every_file_and_answers_each_name_and_size() {
        let (dir, mut files) = setup();
        let op = logs_to_lscopy(&["mgc_20260314010500.trn", "mgc_20260314011000.trn"]);
        assert_eq!(
            files.perform(&op).unwrap(),
            json!([{"name": "mgc_20260314010500.trn", "size": 3000}, {"name": "mgc_20260314011000.trn", "size": 10}])
        );
        let mut left: Vec<String> = fs::read_dir(dir.path().join("copy"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["mgc_20260314010500.trn", "mgc_20260314011000.trn"]);
        assert_eq!(
            fs::read(dir.path().join("copy/mgc_20260314011000.trn")).unwrap(),
            vec![8u8; 10]
        );
    }

    /// A missing source in the middle of a batch fails it whole: no file
    /// takes its final name, no `.partial` is left, and the error names the
    /// missing file.
    #[test]
    fn a_batch_with_a_missing_source_leaves_no_file_behind() {
        let (dir, mut files) = setup();
        let op = logs_to_lscopy(&[
            "mgc_20260314010500.trn",
            "nope.trn",
            "mgc_20260314011000.trn",
        ]);
        let failed = files.perform(&op);
        assert!(
            matches!(&failed, Err(OpError::File { path, .. }) if path == "\\\\fs.x\\logs\\nope.trn"),
            "{failed:?}"
        );
        assert_eq!(fs::read_dir(dir.path().join("copy")).unwrap().count(), 0);
    }

    /// A file of a batch that does not match its source fails the batch:
    /// the file before it, already written as a partial, is removed, and
    /// neither takes its final name (the earlier copy there stays).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_size_mismatch_in_a_batch_renames_nothing() {
        let (dir, mut files) = setup();
        // A /proc file stats as 0 bytes but reads as more: never its size as opened.
        std::os::unix::fs::symlink("/proc/version", dir.path().join("share/version")).unwrap();
        fs::write(dir.path().join("copy/version"), b"earlier").unwrap();
        let failed = files.perform(&logs_to_lscopy(&["mgc_20260314010500.trn", "version"]));
        assert!(
            matches!(&failed, Err(OpError::File { path, message })
                if path == "\\\\sql.x\\lscopy\\version"
                    && message.starts_with("the copy does not match the source after two attempts: copied ")),
            "{failed:?}"
        );
        assert_eq!(
            fs::read(dir.path().join("copy/version")).unwrap(),
            b"earlier"
        );
        assert_eq!(fs::read_dir(dir.path().join("copy")).unwrap().count(), 1);
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

    /// The files the strace test copies, in one batch.
    const TRACED: [&str; 3] = ["a.trn", "b.trn", "c.trn"];

    /// The batch `a_batch_syncs_every_file_before_any_rename_and_its_folder_once_after`
    /// traces, in a process of its own (this test binary, run again under strace).
    #[test]
    #[ignore = "a helper: a_batch_syncs_every_file_before_any_rename_and_its_folder_once_after runs it under strace"]
    fn copy_under_strace() {
        let Some(dir) = std::env::var_os("DRILLBOOK_TRACED_COPY") else {
            return;
        };
        let dir = PathBuf::from(dir);
        let mut files = Mounts(BTreeMap::from([
            ("\\\\fs.x\\logs".to_string(), dir.join("share")),
            ("\\\\sql.x\\lscopy".to_string(), dir.join("copy")),
        ]));
        files.perform(&logs_to_lscopy(&TRACED)).unwrap();
    }

    /// The durability order as the kernel sees it (strace, Debian `strace`):
    /// every copy's data is synced before the first rename, and the
    /// directory once after the last, so the answer comes when every file
    /// and its name survive a power loss, and no name ever points at data
    /// that could be lost.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_batch_syncs_every_file_before_any_rename_and_its_folder_once_after() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("share")).unwrap();
        fs::create_dir_all(dir.path().join("copy")).unwrap();
        for (i, name) in TRACED.iter().enumerate() {
            fs::write(dir.path().join("share").join(name), vec![i as u8; 5000]).unwrap();
        }
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
        let mut names = vec![(copy.clone(), "dir".to_string())];
        for name in TRACED {
            names.push((
                copy.join(format!("{name}.partial")),
                format!("partial:{name}"),
            ));
            names.push((copy.join(name), format!("file:{name}")));
        }
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
                    .map(|(_, name)| name.as_str())
                    .collect();
                (!paths.is_empty()).then(|| format!("{call} {}", paths.join(" ")))
            })
            .collect();
        let synced =
            |c: &str, what: &str| c == format!("fdatasync {what}") || c == format!("fsync {what}");
        let n = TRACED.len();
        assert_eq!(calls.len(), 2 * n + 1, "{calls:?}");
        for name in TRACED {
            let partial = format!("partial:{name}");
            let synced_at = calls[..n].iter().position(|c| synced(c, &partial));
            assert!(
                synced_at.is_some(),
                "{name} not synced before the renames: {calls:?}"
            );
            let renamed = format!(" partial:{name} file:{name}");
            assert!(
                calls[n..2 * n]
                    .iter()
                    .any(|c| c.starts_with("rename") && c.ends_with(&renamed)),
                "{calls:?}"
            );
        }
        assert!(synced(&calls[2 * n], "dir"), "{calls:?}");
        for (i, name) in TRACED.iter().enumerate() {
            assert_eq!(fs::read(copy.join(name)).unwrap(), vec![i as u8; 5000]);
        }
    }
}
