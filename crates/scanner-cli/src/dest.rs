//! Where a report goes: standard output, a device written in place, or a file replaced
//! atomically (a temporary file in the same directory, renamed over it at the end and
//! removed on Ctrl-C), so no half-written report is ever left behind.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::interrupt;

/// The report's destination.
pub enum Dest {
    /// Standard output.
    Stdout,
    /// Not a regular file (`/dev/null`, a FIFO, a terminal): written in place, since
    /// renaming a temporary file over it would replace the device with a file.
    Special(std::fs::File),
    /// A regular file, written through a temporary file beside it.
    File {
        /// The file the report replaces.
        path: PathBuf,
        /// Where it is written until [`Dest::commit`].
        tmp: tempfile::NamedTempFile,
    },
}

impl Dest {
    /// `-o FILE`, or standard output; a new file holding raw secrets gets mode 0600.
    pub fn open(output: Option<&Path>, show_secrets: bool) -> Result<Dest> {
        let Some(path) = output else {
            return Ok(Dest::Stdout);
        };
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Ok(Dest::Special(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?,
            ));
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        let mut builder = tempfile::Builder::new();
        builder.prefix(".leakscan-");
        if let Some(mode) = output_mode(path, show_secrets) {
            builder.permissions(mode);
        }
        let tmp = builder
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        interrupt::remove_on_interrupt(tmp.path());
        // The kernel masks the mode given at creation with the umask; an existing
        // report keeps exactly the mode its owner gave it.
        if let Ok(meta) = std::fs::metadata(path) {
            tmp.as_file()
                .set_permissions(meta.permissions())
                .with_context(|| format!("keeping the mode of {}", path.display()))?;
        }
        Ok(Dest::File {
            path: path.to_owned(),
            tmp,
        })
    }

    /// Where to write.
    pub fn writer(&mut self) -> Box<dyn Write + '_> {
        match self {
            Dest::Stdout => Box::new(io::stdout().lock()),
            Dest::Special(f) => Box::new(f),
            Dest::File { tmp, .. } => Box::new(tmp.as_file_mut()),
        }
    }

    /// Puts a file report in place (a no-op for the others).
    pub fn commit(self) -> Result<()> {
        if let Dest::File { path, tmp } = self {
            let tmp_path = tmp.path().to_owned();
            let persisted = tmp.persist(&path);
            interrupt::forget(&tmp_path);
            persisted.with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// Mode of a new `--output` file: an existing file keeps its own; a new one gets the umask's
/// default (0666 less umask, applied by the kernel) or 0600 when it will hold raw secrets.
fn output_mode(path: &Path, show_secrets: bool) -> Option<std::fs::Permissions> {
    if let Ok(meta) = std::fs::metadata(path) {
        return Some(meta.permissions());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(if show_secrets {
            0o600
        } else {
            0o666
        }))
    }
    #[cfg(not(unix))]
    {
        let _ = show_secrets;
        None
    }
}
