//! Replacing a file atomically: readers see the old file or the new one, never a part.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The permissions the written file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Perms {
    /// Exactly this mode, whatever the replaced file had (keys).
    Exactly(u32),
    /// A replaced file keeps its mode (and owner, when allowed); a new one gets this mode.
    KeepOr(u32),
}

/// Replaces `path` with `bytes`: a temporary file beside it, fsync, rename, fsync of the directory.
///
/// # Errors
/// The operating system's error; the temporary file is removed and `path`
/// is left as it was.
pub(crate) fn replace(path: &Path, bytes: &[u8], perms: Perms) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    let tmp = dir.join(format!(
        ".{}.kioskctl-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    // A temporary file left by a killed run of this same process id.
    let _ = std::fs::remove_file(&tmp);
    let (mode, keep) = match perms {
        Perms::Exactly(mode) => (mode, None),
        Perms::KeepOr(mode) => (mode, std::fs::metadata(path).ok()),
    };
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        if let Some(meta) = &keep {
            // Best effort: only root may give a file to someone else.
            let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
            file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
