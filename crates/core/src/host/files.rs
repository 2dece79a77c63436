//! Host files: the paths no connector may use ([`ProtectedPaths`]), and the checked handles a connector
//! gets for a file ([`HostFile`]) or a folder ([`HostFolder`]) it was allowed.
//!
//! A path is judged by what it really names: every symbolic link resolved (`canonicalize`), then its device
//! and inode compared against the protected files, so neither a link nor a hard link reaches them. A file is
//! looked at by opening it with `O_NONBLOCK` and reading its type from the open descriptor (`fstat`): a
//! FIFO, device, socket or folder is refused before anything waits on it.

use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, ErrorKind, FieldError, Result};

/// A file's identity on the host: device and inode.
pub type FileIdentity = (u64, u64);

fn identity(metadata: &Metadata) -> FileIdentity {
    (metadata.dev(), metadata.ino())
}

/// The server's own files, which no connector may use whoever declared it: the store (and its journal
/// files), the master key (and the copy rotation keeps), the configuration file, and any folder the host
/// adds. A folder that holds one of them is refused as a root too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedPaths {
    paths: Vec<PathBuf>,
}

impl ProtectedPaths {
    /// None.
    pub fn new() -> ProtectedPaths {
        ProtectedPaths::default()
    }

    /// Adds `path`, which need not exist yet (a journal file, a key's `.old` copy): it is compared by the
    /// path its existing parent resolves to, and by device and inode once it exists.
    #[must_use]
    pub fn with(mut self, path: impl AsRef<Path>) -> ProtectedPaths {
        self.add(path);
        self
    }

    /// Adds `path` (see [`ProtectedPaths::with`]).
    pub fn add(&mut self, path: impl AsRef<Path>) {
        let resolved = resolve_existing(&absolute(path.as_ref()));
        if !self.paths.contains(&resolved) {
            self.paths.push(resolved);
        }
    }

    /// Adds every path of `other`.
    pub fn extend(&mut self, other: &ProtectedPaths) {
        for path in &other.paths {
            self.add(path);
        }
    }

    /// The paths, resolved.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The protected path that `path` (resolved) is, or lies inside, or shares `identity` with.
    fn covering(&self, path: &Path, identity: Option<FileIdentity>) -> Option<&Path> {
        self.paths
            .iter()
            .find(|protected| {
                path.starts_with(protected)
                    || identity.is_some_and(|identity| {
                        std::fs::metadata(protected).is_ok_and(|meta| self::identity(&meta) == identity)
                    })
            })
            .map(PathBuf::as_path)
    }

    /// A protected path inside `folder` (resolved), if any.
    fn inside(&self, folder: &Path) -> Option<&Path> {
        self.paths
            .iter()
            .find(|protected| protected.starts_with(folder))
            .map(PathBuf::as_path)
    }
}

/// `path` made absolute against the working directory, with `.` and `..` resolved by their text.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal
}

/// The path with every link resolved, as far as it exists: a missing file is its resolved parent and name.
fn resolve_existing(path: &Path) -> PathBuf {
    if let Ok(resolved) = path.canonicalize() {
        return resolved;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => resolve_existing(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// What a connector means to do with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileUse {
    /// Read it; it must exist.
    Read,
    /// Read and write it; it must exist.
    Write,
    /// Read and write it, creating it when it does not exist.
    Create,
}

/// A file a connector was allowed to use, as checked: its resolved path and, when it exists, its identity.
/// Open [`HostFile::path`], then call [`HostFile::confirm`] to make sure the file opened is the one checked.
#[derive(Debug, Clone)]
pub struct HostFile {
    field: String,
    path: PathBuf,
    identity: Option<FileIdentity>,
    may_create: bool,
    protected: ProtectedPaths,
}

impl HostFile {
    /// The path to open: every link resolved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file existed when it was checked.
    pub fn exists(&self) -> bool {
        self.identity.is_some()
    }

    /// Its device and inode when it was checked.
    pub fn identity(&self) -> Option<FileIdentity> {
        self.identity
    }

    /// Whether the caller may create it (it does not exist, it was asked for with [`FileUse::Create`],
    /// and the access is not testing an unsaved configuration). A caller never creates a file otherwise.
    pub fn may_create(&self) -> bool {
        self.identity.is_none() && self.may_create
    }

    /// After the caller opened (or created) [`HostFile::path`]: the path must still name a regular file,
    /// the same one that was checked (or, for a file just created, one that is not protected).
    pub fn confirm(&self) -> Result<()> {
        let metadata = std::fs::symlink_metadata(&self.path)
            .map_err(|error| cannot_open(&self.field, &self.path, &error))?;
        check_kind(&self.field, &metadata)?;
        let now = identity(&metadata);
        if self.identity.is_some_and(|checked| checked != now) {
            return Err(refused(
                &self.field,
                "the file changed between the check and the open; try again",
                "something replaced the file while it was being opened",
            ));
        }
        if self.protected.covering(&self.path, Some(now)).is_some() {
            return Err(protected(&self.field));
        }
        Ok(())
    }
}

/// A folder a connector was allowed to serve (a local-folder object store). Every entry it reads or
/// writes is checked first with [`HostFolder::check_entry`].
#[derive(Debug, Clone)]
pub struct HostFolder {
    root: PathBuf,
    protected: ProtectedPaths,
}

impl HostFolder {
    /// The folder, every link resolved.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks the entry at `segments` under the root before it is read or written: no segment may be a
    /// symbolic link (a link inside the folder could point anywhere on the host), an existing entry must
    /// be a folder or a regular file (never a FIFO, device or socket, which would block or reach a host
    /// service), and a file must not be one of the protected files (a hard link to the master key).
    /// Entries that do not exist yet pass.
    pub fn check_entry<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let mut path = self.root.clone();
        let mut segments = segments.into_iter().peekable();
        while let Some(segment) = segments.next() {
            path.push(segment);
            let metadata = match std::fs::symlink_metadata(&path) {
                Ok(metadata) => metadata,
                Err(_) => return Ok(()),
            };
            let kind = metadata.file_type();
            if kind.is_symlink() {
                return Err(Error::permission_denied(
                    "the key passes through a symbolic link, which this connector does not follow",
                )
                .with_hint("local folders serve regular files and folders only"));
            }
            let last = segments.peek().is_none();
            let allowed = kind.is_dir() || (last && kind.is_file());
            if !allowed {
                return Err(Error::permission_denied(format!(
                    "the key names {}, not a regular file",
                    describe_kind(&metadata)
                ))
                .with_hint("local folders serve regular files and folders only"));
            }
            if kind.is_file()
                && self
                    .protected
                    .covering(&path, Some(identity(&metadata)))
                    .is_some()
            {
                return Err(
                    Error::permission_denied("the key names one of the server's own files")
                        .with_hint("local folders never serve the server's store, key or configuration"),
                );
            }
        }
        Ok(())
    }
}

/// Opens `path` for a look at what it is, without waiting on it: `O_NONBLOCK` (a FIFO opens at once),
/// `O_NOFOLLOW` (the path is already resolved; a link swapped in since is not followed).
fn peek(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

fn describe_kind(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

fn check_kind(field: &str, metadata: &Metadata) -> Result<()> {
    if metadata.file_type().is_file() {
        Ok(())
    } else {
        Err(Error::invalid_config(vec![FieldError::new(
            field,
            format!("names {}; only regular files are opened", describe_kind(metadata)),
        )]))
    }
}

pub(crate) fn refused(field: &str, message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::invalid_config(vec![FieldError::new(field, message)]).with_hint(hint)
}

fn protected(field: &str) -> Error {
    refused(
        field,
        "names one of the server's own files (its store, master key, configuration or data folder), which no connector may use",
        "choose a file or folder of your own",
    )
}

fn cannot_open(field: &str, path: &Path, error: &std::io::Error) -> Error {
    let kind = if error.kind() == std::io::ErrorKind::NotFound {
        ErrorKind::NotFound
    } else {
        ErrorKind::InvalidConfig
    };
    Error::new(kind, format!("{} cannot be opened: {error}", path.display()))
        .with_fields(vec![FieldError::new(field, format!("cannot be opened: {error}"))])
        .with_hint("create it, or correct the path in the connector's settings")
}

/// Where a tenant may use host files: the resolved roots, or none.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileRules {
    /// `None`: any path (operator-declared connectors); otherwise only under these resolved folders.
    pub(crate) roots: Option<Vec<PathBuf>>,
    pub(crate) protected: ProtectedPaths,
    /// Whether a file may be created (off when an unsaved configuration is tested).
    pub(crate) may_create: bool,
}

impl FileRules {
    fn outside_roots(&self, field: &str, path: &Path) -> Option<Error> {
        let roots = self.roots.as_ref()?;
        if roots.iter().any(|root| path.starts_with(root)) {
            return None;
        }
        Some(refused(
            field,
            "is outside the folders this server lets organizations use",
            if roots.is_empty() {
                "this server lets organizations use no host files; the operator can list folders in \
                 [security.tenants] allowed_roots, or declare the connector in the configuration file"
                    .to_owned()
            } else {
                let listed: Vec<String> = roots.iter().map(|root| root.display().to_string()).collect();
                format!(
                    "use a path under {} (the operator's [security.tenants] allowed_roots)",
                    listed.join(", ")
                )
            },
        ))
    }

    /// Checks a file path; see [`super::HostAccess::file`].
    pub(crate) fn file(&self, field: &str, path: &Path, intent: FileUse) -> Result<HostFile> {
        if path.as_os_str().is_empty() {
            return Err(Error::invalid_config(vec![FieldError::new(field, "is empty")]));
        }
        // Judge the written path before touching the file system, so a refused path reveals nothing about
        // what exists there; then judge what it resolves to.
        let written = absolute(path);
        if let Some(error) = self.outside_roots(field, &written) {
            return Err(error);
        }
        if self.protected.covering(&written, None).is_some() {
            return Err(protected(field));
        }
        let (resolved, exists) = match written.canonicalize() {
            Ok(resolved) => (resolved, true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && intent == FileUse::Create => {
                if std::fs::symlink_metadata(&written).is_ok() {
                    return Err(refused(
                        field,
                        "is a symbolic link to nothing; a file is never created through a link",
                        "name the file itself",
                    ));
                }
                let parent = written.parent().unwrap_or(Path::new("/"));
                let name = written
                    .file_name()
                    .ok_or_else(|| Error::invalid_config(vec![FieldError::new(field, "names no file")]))?;
                let parent = parent
                    .canonicalize()
                    .map_err(|error| cannot_open(field, parent, &error))?;
                (parent.join(name), false)
            }
            Err(error) => return Err(cannot_open(field, &written, &error)),
        };
        if let Some(error) = self.outside_roots(field, &resolved) {
            return Err(error);
        }
        let identity = if exists {
            let file = peek(&resolved).map_err(|error| cannot_open(field, &resolved, &error))?;
            let metadata = file
                .metadata()
                .map_err(|error| cannot_open(field, &resolved, &error))?;
            check_kind(field, &metadata)?;
            Some(self::identity(&metadata))
        } else {
            None
        };
        if self.protected.covering(&resolved, identity).is_some() {
            return Err(protected(field));
        }
        Ok(HostFile {
            field: field.to_owned(),
            path: resolved,
            identity,
            may_create: self.may_create && intent == FileUse::Create,
            protected: self.protected.clone(),
        })
    }

    /// Checks a path as written, and what it names when it exists; see [`super::HostAccess::check_file`].
    pub(crate) fn check_file(&self, field: &str, path: &Path) -> Result<()> {
        if std::fs::symlink_metadata(absolute(path)).is_ok() {
            return self.file(field, path, FileUse::Read).map(|_| ());
        }
        if path.as_os_str().is_empty() {
            return Err(Error::invalid_config(vec![FieldError::new(field, "is empty")]));
        }
        let written = absolute(path);
        if let Some(error) = self.outside_roots(field, &written) {
            return Err(error);
        }
        if self
            .protected
            .covering(&resolve_existing(&written), None)
            .is_some()
        {
            return Err(protected(field));
        }
        Ok(())
    }

    /// Checks a folder path; see [`super::HostAccess::folder`].
    pub(crate) fn folder(&self, field: &str, path: &Path) -> Result<HostFolder> {
        if path.as_os_str().is_empty() {
            return Err(Error::invalid_config(vec![FieldError::new(field, "is empty")]));
        }
        let written = absolute(path);
        if let Some(error) = self.outside_roots(field, &written) {
            return Err(error);
        }
        if self.protected.covering(&written, None).is_some() || self.protected.inside(&written).is_some() {
            return Err(protected(field));
        }
        let resolved = written
            .canonicalize()
            .map_err(|error| cannot_open(field, &written, &error))?;
        if let Some(error) = self.outside_roots(field, &resolved) {
            return Err(error);
        }
        let metadata = std::fs::metadata(&resolved).map_err(|error| cannot_open(field, &resolved, &error))?;
        if !metadata.is_dir() {
            return Err(Error::invalid_config(vec![FieldError::new(
                field,
                format!("names {}, not a folder", describe_kind(&metadata)),
            )]));
        }
        if self
            .protected
            .covering(&resolved, Some(identity(&metadata)))
            .is_some()
            || self.protected.inside(&resolved).is_some()
        {
            return Err(protected(field));
        }
        Ok(HostFolder {
            root: resolved,
            protected: self.protected.clone(),
        })
    }

    /// Checks a Unix socket path; see [`super::HostAccess::unix_socket`].
    pub(crate) fn unix_socket(&self, field: &str, path: &Path) -> Result<PathBuf> {
        if self.roots.is_some() {
            return Err(refused(
                field,
                "is a Unix socket, which reaches a service on this host; connectors created through the API may not use one",
                "connect over TCP to a host on the network, or ask the operator to declare this connector in the configuration file",
            ));
        }
        // A socket that does not exist yet (its server is not up) is judged by its path; connecting to it
        // judges it again.
        let resolved = resolve_existing(&absolute(path));
        if self.protected.covering(&resolved, None).is_some() {
            return Err(protected(field));
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(roots: Option<Vec<PathBuf>>, protected: ProtectedPaths) -> FileRules {
        FileRules {
            roots,
            protected,
            may_create: true,
        }
    }

    #[test]
    fn protected_files_are_refused_by_path_link_and_hard_link() {
        let dir = tempfile_dir();
        let key = dir.join("master.key");
        std::fs::write(&key, "key").unwrap();
        let protected = ProtectedPaths::new().with(&key).with(dir.join("master.key.old"));
        let rules = rules(None, protected);
        let link = dir.join("link");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let hard = dir.join("hard");
        std::fs::hard_link(&key, &hard).unwrap();
        for path in [&key, &link, &hard, &dir.join("sub/../master.key")] {
            let error = rules.file("path", path, FileUse::Read).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{path:?}");
            assert!(
                error.fields()[0].message.contains("server's own files"),
                "{error}"
            );
        }
        let error = rules
            .file("path", &dir.join("master.key.old"), FileUse::Create)
            .unwrap_err();
        assert!(
            error.fields()[0].message.contains("server's own files"),
            "{error}"
        );
        let error = rules.folder("root", &dir).unwrap_err();
        assert!(
            error.fields()[0].message.contains("server's own files"),
            "a folder holding the key"
        );
        let error = rules.folder("root", Path::new("/")).unwrap_err();
        assert!(
            error.fields()[0].message.contains("server's own files"),
            "a folder above the key"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tenants_stay_under_their_roots_even_through_links() {
        let dir = tempfile_dir();
        let root = dir.join("tenants");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.db"), "").unwrap();
        std::fs::write(dir.join("outside.db"), "").unwrap();
        std::os::unix::fs::symlink(dir.join("outside.db"), root.join("escape.db")).unwrap();
        let rules = rules(Some(vec![root.canonicalize().unwrap()]), ProtectedPaths::new());
        assert!(rules.file("path", &root.join("a.db"), FileUse::Read).is_ok());
        for path in [
            dir.join("outside.db"),
            root.join("escape.db"),
            root.join("../outside.db"),
            PathBuf::from("/etc/passwd"),
        ] {
            let error = rules.file("path", &path, FileUse::Read).unwrap_err();
            assert!(
                error.fields()[0].message.contains("outside the folders"),
                "{path:?}: {error}"
            );
        }
        let created = rules.file("path", &root.join("new.db"), FileUse::Create).unwrap();
        assert!(!created.exists());
        assert!(created.may_create());
        let probing = FileRules {
            may_create: false,
            ..rules.clone()
        };
        assert!(
            !probing
                .file("path", &root.join("new.db"), FileUse::Create)
                .unwrap()
                .may_create()
        );
        assert!(
            rules.check_file("path", &root.join("later.db")).is_ok(),
            "a missing file passes"
        );
        assert!(rules.check_file("path", Path::new("/srv/elsewhere.db")).is_err());
        assert!(!root.join("new.db").exists(), "checking creates nothing");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile_dir();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let rules = rules(None, ProtectedPaths::new());
        let error = rules.file("path", &fifo, FileUse::Read).unwrap_err();
        assert!(error.fields()[0].message.contains("FIFO"), "{error}");
        let error = rules
            .file("path", Path::new("/dev/null"), FileUse::Write)
            .unwrap_err();
        assert!(error.fields()[0].message.contains("device"), "{error}");
        let error = rules.file("path", &dir, FileUse::Read).unwrap_err();
        assert!(error.fields()[0].message.contains("folder"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        // Kept (not deleted on drop): each test removes its folder at its end.
        tempfile::tempdir().unwrap().keep().canonicalize().unwrap()
    }
}
