//! Making a rename durable: the one place that syncs a directory, for the
//! lab's snapshots and the live copy alike.

use std::io;
use std::path::Path;

/// fsync `dir`, so that a rename in it survives a power loss. A file
/// system that cannot sync a directory (`EINVAL`, as some network and FUSE
/// mounts answer) offers nothing stronger, so that is not an error
/// (PostgreSQL's `fsync_fname` does the same).
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match std::fs::File::open(dir)?.sync_all() {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// Windows: std cannot open a directory to sync it; the rename is as
/// durable as NTFS's own metadata journal makes it.
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
