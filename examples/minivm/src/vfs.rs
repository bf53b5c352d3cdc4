//! A small filesystem interface for `open()`, the `os` module and the importer, and its host
//! implementation over a directory.
//!
//! [`Vfs`] is what a board provides (littlefs in flash on the Pico, [`HostDir`] on the host):
//! file descriptors, directories, `stat`/`statvfs`, every failure a [`VfsError`] that maps to the
//! errno MicroPython raises (`OSError(ENOENT)` …). Paths handed to a [`Vfs`] are always absolute
//! and normalised by [`Root::resolve`]: `"/"`, `"/lib/mymod.mpy"` — no `.`, `..`, `//` or
//! trailing `/`; `..` at the top stays at the top, as on POSIX, so no path leaves the
//! filesystem.
//!
//! [`Root`] is one mounted filesystem as the VM sees it: the `Vfs`, the current directory and the
//! open files' owners (so files dropped without `close()` can be closed after a collection, as
//! MicroPython's finalisers do). The VM and the importer ([`VfsSource`], which searches
//! `sys.path`-style directories for `.mpy` files) share it through an `Rc`.
//!
//! This is the core's part: the VM holds the [`Root`] ([`Vm::vfs`]) and raises a [`VfsError`]
//! as `OSError(errno)` ([`Vm::raise_vfs`]). Python's side is above it: `open()` and the file
//! types in `types::file`, the `os` module in `modules::os`.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::vm::{ModuleSource, R, Vm};

/// Longest file or directory name (littlefs's `LFS_NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// `st_mode` of a directory.
pub const S_IFDIR: u32 = 0x4000;
/// `st_mode` of a regular file.
pub const S_IFREG: u32 = 0x8000;

/// Why a filesystem operation failed; [`VfsError::errno`] is the `OSError` number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VfsError {
    /// No such file or directory (`ENOENT`).
    NotFound,
    /// The entry already exists (`EEXIST`).
    Exists,
    /// A path component is not a directory (`ENOTDIR`).
    NotDir,
    /// The path is a directory (`EISDIR`).
    IsDir,
    /// The directory is not empty (`ENOTEMPTY`).
    NotEmpty,
    /// Bad argument: a mode, a seek, a name with NUL, moving a directory into itself (`EINVAL`).
    Invalid,
    /// No room left (`ENOSPC`).
    NoSpace,
    /// A name longer than [`NAME_MAX`] (`ENAMETOOLONG`).
    NameTooLong,
    /// The file is too large (`EFBIG`).
    TooBig,
    /// The device failed, or the filesystem is corrupted (`EIO`).
    Io,
    /// Not an open file (`EBADF`).
    BadFd,
    /// Too many open files (`EMFILE`).
    TooManyOpen,
    /// Not permitted: the file is not open for that, or a host path leads outside (`EACCES`).
    Access,
    /// No filesystem is mounted (`ENODEV`).
    NoDevice,
    /// Out of memory for the operation (`ENOMEM`).
    NoMemory,
}

impl VfsError {
    /// The errno MicroPython puts in the `OSError`.
    pub fn errno(self) -> i32 {
        match self {
            VfsError::NotFound => 2,
            VfsError::Io => 5,
            VfsError::BadFd => 9,
            VfsError::NoMemory => 12,
            VfsError::Access => 13,
            VfsError::Exists => 17,
            VfsError::NoDevice => 19,
            VfsError::NotDir => 20,
            VfsError::IsDir => 21,
            VfsError::Invalid => 22,
            VfsError::TooManyOpen => 24,
            VfsError::TooBig => 27,
            VfsError::NoSpace => 28,
            VfsError::NameTooLong => 36,
            VfsError::NotEmpty => 39,
        }
    }

    /// The errno's symbolic name (`"ENOENT"`).
    pub fn name(self) -> &'static str {
        match self {
            VfsError::NotFound => "ENOENT",
            VfsError::Io => "EIO",
            VfsError::BadFd => "EBADF",
            VfsError::NoMemory => "ENOMEM",
            VfsError::Access => "EACCES",
            VfsError::Exists => "EEXIST",
            VfsError::NoDevice => "ENODEV",
            VfsError::NotDir => "ENOTDIR",
            VfsError::IsDir => "EISDIR",
            VfsError::Invalid => "EINVAL",
            VfsError::TooManyOpen => "EMFILE",
            VfsError::TooBig => "EFBIG",
            VfsError::NoSpace => "ENOSPC",
            VfsError::NameTooLong => "ENAMETOOLONG",
            VfsError::NotEmpty => "ENOTEMPTY",
        }
    }
}

impl fmt::Display for VfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[Errno {}] {}", self.errno(), self.name())
    }
}

impl core::error::Error for VfsError {}

/// An open file of a [`Vfs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fd(pub u32);

/// How a file is opened, from a Python mode string (`"r"`, `"wb"`, `"a+"`, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenMode {
    /// Reads allowed.
    pub read: bool,
    /// Writes allowed.
    pub write: bool,
    /// Every write goes to the end.
    pub append: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// Empty the file when opening it.
    pub truncate: bool,
    /// Fail with [`VfsError::Exists`] if it exists (`"x"`).
    pub exclusive: bool,
    /// `b`: reads give bytes (else str).
    pub binary: bool,
}

impl OpenMode {
    /// `"rb"`: how the VM itself reads a file (a module's `.mpy`, a source to hash).
    pub const READ_BINARY: OpenMode = OpenMode {
        read: true,
        write: false,
        append: false,
        create: false,
        truncate: false,
        exclusive: false,
        binary: true,
    };

    /// Parses a mode string as Python's `open` does: one of `r w a x`, optionally `+`, and `b`
    /// or `t`; anything else is `None`.
    pub fn parse(mode: &str) -> Option<OpenMode> {
        let mut m = OpenMode::default();
        let mut base = None;
        let (mut plus, mut bt) = (false, false);
        for c in mode.chars() {
            match c {
                'r' | 'w' | 'a' | 'x' if base.is_none() => base = Some(c),
                '+' if !plus => plus = true,
                'b' | 't' if !bt => {
                    bt = true;
                    m.binary = c == 'b';
                }
                _ => return None,
            }
        }
        match base? {
            'r' => m.read = true,
            'w' => {
                m.write = true;
                m.create = true;
                m.truncate = true;
            }
            'a' => {
                m.write = true;
                m.create = true;
                m.append = true;
            }
            _ => {
                m.write = true;
                m.create = true;
                m.exclusive = true;
            }
        }
        if plus {
            m.read = true;
            m.write = true;
        }
        Some(m)
    }
}

/// Where a seek is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekFrom {
    /// From the start of the file.
    Start(u32),
    /// From the current position.
    Current(i32),
    /// From the end of the file.
    End(i32),
}

/// What `stat` tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// A directory (else a regular file).
    pub is_dir: bool,
    /// Size in bytes (0 for directories).
    pub size: u32,
}

impl Stat {
    /// `st_mode`: [`S_IFDIR`] or [`S_IFREG`].
    pub fn mode(self) -> u32 {
        if self.is_dir { S_IFDIR } else { S_IFREG }
    }
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name (no `/`).
    pub name: String,
    /// What `stat` would say about it.
    pub stat: Stat,
}

/// What `statvfs` tells (MicroPython's tuple order: `f_bsize, f_frsize, f_blocks, f_bfree,
/// f_bavail, f_files, f_ffree, f_favail, f_flag, f_namemax`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatVfs {
    /// Block size in bytes.
    pub block_size: u32,
    /// Blocks in the filesystem.
    pub blocks: u32,
    /// Blocks free.
    pub free: u32,
    /// Longest name.
    pub name_max: u32,
}

/// A filesystem. Paths are absolute and normalised (see the module docs); methods take `&self`
/// (implementations keep their state in cells) so the VM and the importer can share one.
///
/// A wrong answer can only give Python wrong data or a wrong `OSError`: the VM copies what it
/// reads and checks every length.
pub trait Vfs {
    /// Opens `path`; writes may stay buffered until [`Vfs::close`] (or [`Vfs::flush`]), and a
    /// power cut before then leaves the file as it was (littlefs's guarantee; the host's
    /// directory writes through).
    fn open(&self, path: &str, mode: OpenMode) -> Result<Fd, VfsError>;
    /// Reads up to `buf.len()` bytes at the file position; 0 at the end.
    fn read(&self, fd: Fd, buf: &mut [u8]) -> Result<usize, VfsError>;
    /// Writes `data` at the file position (or the end, in append mode); all of it, or an error.
    fn write(&self, fd: Fd, data: &[u8]) -> Result<(), VfsError>;
    /// Moves the file position; returns the new one.
    fn seek(&self, fd: Fd, pos: SeekFrom) -> Result<u32, VfsError>;
    /// Makes what was written so far durable.
    fn flush(&self, fd: Fd) -> Result<(), VfsError>;
    /// Flushes and closes `fd` (it is gone even if the flush failed).
    fn close(&self, fd: Fd) -> Result<(), VfsError>;
    /// Whether `path` is a file or a directory, and its size.
    fn stat(&self, path: &str) -> Result<Stat, VfsError>;
    /// The entries of directory `path` (without `.` and `..`), in the filesystem's order.
    fn list(&self, path: &str) -> Result<Vec<DirEntry>, VfsError>;
    /// Removes a file (a directory is [`VfsError::IsDir`]).
    fn remove(&self, path: &str) -> Result<(), VfsError>;
    /// Creates a directory (its parent must exist).
    fn mkdir(&self, path: &str) -> Result<(), VfsError>;
    /// Removes an empty directory.
    fn rmdir(&self, path: &str) -> Result<(), VfsError>;
    /// Renames `from` to `to`, replacing a file at `to`.
    fn rename(&self, from: &str, to: &str) -> Result<(), VfsError>;
    /// Sizes of the filesystem.
    fn statvfs(&self) -> Result<StatVfs, VfsError>;
}

/// One filesystem as the VM sees it: the [`Vfs`], the current directory, and who owns each
/// open file.
pub struct Root {
    fs: Box<dyn Vfs>,
    cwd: RefCell<String>,
    /// Open files and the address of the Python file object holding each.
    owners: RefCell<Vec<(Fd, u32)>>,
}

impl Root {
    /// Mounts `fs` at `/`, with `/` as the current directory.
    pub fn new(fs: Box<dyn Vfs>) -> Rc<Root> {
        Rc::new(Root {
            fs,
            cwd: RefCell::new(String::from("/")),
            owners: RefCell::new(Vec::new()),
        })
    }

    /// The filesystem.
    pub fn fs(&self) -> &dyn Vfs {
        &*self.fs
    }

    /// The current directory (absolute, normalised).
    pub fn cwd(&self) -> String {
        self.cwd.borrow().clone()
    }

    /// Changes the current directory (it must be a directory).
    pub fn chdir(&self, path: &str) -> Result<(), VfsError> {
        let p = self.resolve(path)?;
        if !self.fs.stat(&p)?.is_dir {
            return Err(VfsError::NotDir);
        }
        *self.cwd.borrow_mut() = p;
        Ok(())
    }

    /// `path` made absolute (against the current directory) and normalised; names longer than
    /// [`NAME_MAX`] are [`VfsError::NameTooLong`], a NUL is [`VfsError::Invalid`].
    pub fn resolve(&self, path: &str) -> Result<String, VfsError> {
        let cwd = self.cwd.borrow();
        let mut parts: Vec<&str> = Vec::new();
        if !path.starts_with('/') {
            parts.extend(cwd.split('/').filter(|p| !p.is_empty()));
        }
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                p if p.contains('\0') => return Err(VfsError::Invalid),
                p if p.len() > NAME_MAX => return Err(VfsError::NameTooLong),
                p => parts.push(p),
            }
        }
        let mut out = String::with_capacity(path.len() + cwd.len() + 1);
        for p in &parts {
            out.push('/');
            out.push_str(p);
        }
        if out.is_empty() {
            out.push('/');
        }
        Ok(out)
    }

    /// Records that the Python object at `owner` holds `fd`.
    pub fn adopt(&self, fd: Fd, owner: u32) {
        self.owners.borrow_mut().push((fd, owner));
    }

    /// Closes `fd` and forgets its owner.
    pub fn close(&self, fd: Fd) -> Result<(), VfsError> {
        self.owners.borrow_mut().retain(|(f, _)| *f != fd);
        self.fs.close(fd)
    }

    /// The open files and their owners' addresses.
    pub fn owners(&self) -> Vec<(Fd, u32)> {
        self.owners.borrow().clone()
    }

    /// Closes every open file (a soft reboot); the first error, if any.
    pub fn close_all(&self) -> Result<(), VfsError> {
        let fds: Vec<Fd> = self.owners.borrow_mut().drain(..).map(|(f, _)| f).collect();
        let mut first = Ok(());
        for fd in fds {
            if let Err(e) = self.fs.close(fd)
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }

    /// Reads all of `path` (a file) into memory.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, VfsError> {
        let p = self.resolve(path)?;
        let size = self.fs.stat(&p)?.size as usize;
        let fd = self.fs.open(&p, OpenMode::READ_BINARY)?;
        let mut out = Vec::new();
        if out.try_reserve_exact(size).is_err() {
            let _ = self.fs.close(fd);
            return Err(VfsError::NoMemory);
        }
        let mut chunk = [0u8; 256];
        let r = loop {
            match self.fs.read(fd, &mut chunk) {
                Ok(0) => break Ok(()),
                Ok(n) => out.extend_from_slice(&chunk[..n.min(chunk.len())]),
                Err(e) => break Err(e),
            }
        };
        let closed = self.fs.close(fd);
        r.and(closed).map(|()| out)
    }

    /// [`crate::lifecycle::source_hash`] of `path` (a file), read in 256-byte chunks: the
    /// freezer's source record costs a chunk, not the file.
    pub fn hash_file(&self, path: &str) -> Result<String, VfsError> {
        let p = self.resolve(path)?;
        let fd = self.fs.open(&p, OpenMode::READ_BINARY)?;
        let mut failed = None;
        let hash = crate::lifecycle::source_hash_read(|buf| match self.fs.read(fd, buf) {
            Ok(n) => Some(n),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let closed = self.fs.close(fd);
        match (hash, failed) {
            (Some(h), _) => closed.map(|()| h),
            (None, Some(e)) => Err(e),
            (None, None) => Err(VfsError::NoMemory),
        }
    }
}

/// Modules in `.mpy` files on a [`Root`]: `a.b` is `<dir>/a/b.mpy`, or the package
/// `<dir>/a/b/__init__.mpy`, for each directory of `path` in order (`""` is the current
/// directory), as MicroPython's `sys.path` search.
///
/// A file that cannot be read (a corrupted filesystem) is skipped like a missing one, since
/// [`ModuleSource`] has no way to report an error; `open()` on it gives the `OSError`.
pub struct VfsSource {
    /// The filesystem.
    pub root: Rc<Root>,
    /// Directories searched, in order.
    pub path: Vec<String>,
}

impl VfsSource {
    /// A source searching `path` on `root`.
    pub fn new(root: Rc<Root>, path: &[&str]) -> VfsSource {
        VfsSource {
            root,
            path: path.iter().map(|p| String::from(*p)).collect(),
        }
    }

    /// `<dir>/a/b<tail>` for module `a.b` and each directory of `path`.
    fn candidates_on(path: &[String], name: &str, tail: &str) -> Vec<String> {
        let rel: Vec<&str> = name.split('.').collect();
        path.iter()
            .map(|dir| {
                let mut p = dir.clone();
                for part in &rel {
                    if !p.is_empty() && !p.ends_with('/') {
                        p.push('/');
                    }
                    p.push_str(part);
                }
                p.push_str(tail);
                p
            })
            .collect()
    }
}

impl VfsSource {
    /// Module `name` in the directories `path`: `<dir>/a/b.mpy`, then the package
    /// `<dir>/a/b/__init__.mpy`, directory by directory.
    fn find_in(&self, path: &[String], name: &str) -> Option<(Vec<u8>, bool)> {
        if name.split('.').any(|p| p.is_empty()) {
            return None;
        }
        for (file, pkg) in Self::candidates_on(path, name, ".mpy")
            .into_iter()
            .zip(Self::candidates_on(path, name, "/__init__.mpy"))
        {
            if let Ok(b) = self.root.read_file(&file) {
                return Some((b, false));
            }
            if let Ok(b) = self.root.read_file(&pkg) {
                return Some((b, true));
            }
        }
        None
    }

    /// Is there a directory `<dir>/a/b` for `a.b` in one of `path`'s directories?
    fn dir_in(&self, path: &[String], name: &str) -> bool {
        Self::candidates_on(path, name, "").iter().any(|d| {
            self.root
                .resolve(d)
                .and_then(|p| self.root.fs().stat(&p))
                .is_ok_and(|s| s.is_dir)
        })
    }
}

/// The importer asks with `sys.path` ([`ModuleSource::find_on`]): a program that changes
/// `sys.path` changes where modules are found. Asked without it, the source searches the
/// directories it was made with.
impl ModuleSource for VfsSource {
    fn find(&self, name: &str) -> Option<(Vec<u8>, bool)> {
        self.find_in(&self.path, name)
    }

    fn is_package_dir(&self, name: &str) -> bool {
        self.dir_in(&self.path, name)
    }

    fn find_on(&self, name: &str, path: &[String]) -> Option<(Vec<u8>, bool)> {
        self.find_in(path, name)
    }

    fn is_package_dir_on(&self, name: &str, path: &[String]) -> bool {
        self.dir_in(path, name)
    }

    fn path_on(&self, name: &str, path: &[String]) -> Option<String> {
        if name.split('.').any(|p| p.is_empty()) {
            return None;
        }
        Self::candidates_on(path, name, ".mpy")
            .into_iter()
            .zip(Self::candidates_on(path, name, "/__init__.mpy"))
            .flat_map(|(f, p)| [f, p])
            .find(|f| self.root.read_file(f).is_ok())
    }

    // The bytes in hand are hashed; the path is the first candidate that is a file (a stat,
    // where `path_on` would read each candidate).
    fn hash_found(&self, name: &str, path: &[String], bytes: &[u8]) -> Option<(String, String)> {
        if name.split('.').any(|p| p.is_empty()) {
            return None;
        }
        let f = Self::candidates_on(path, name, ".mpy")
            .into_iter()
            .zip(Self::candidates_on(path, name, "/__init__.mpy"))
            .flat_map(|(f, p)| [f, p])
            .find(|f| {
                self.root
                    .resolve(f)
                    .and_then(|p| self.root.fs().stat(&p))
                    .is_ok_and(|s| !s.is_dir)
            })?;
        Some((f, crate::lifecycle::source_hash(bytes)))
    }

    // One read of the file (the default reads it for `find_on` and again for `path_on`).
    fn hash_on(&self, name: &str, path: &[String]) -> Option<(String, String)> {
        if name.split('.').any(|p| p.is_empty()) {
            return None;
        }
        Self::candidates_on(path, name, ".mpy")
            .into_iter()
            .zip(Self::candidates_on(path, name, "/__init__.mpy"))
            .flat_map(|(f, p)| [f, p])
            .find_map(|f| {
                let h = self.root.hash_file(&f).ok()?;
                Some((f, h))
            })
    }
}

/// Gives `vm` the filesystem `root` for `open()` and `os`, and makes the importer search
/// `path` on it (as `sys.path`, which is set to match) before the sources it already has.
pub fn mount<F: FlashImage>(vm: &mut Vm<F>, root: Rc<Root>, path: &[&str]) {
    vm.sources
        .insert(0, Box::new(VfsSource::new(root.clone(), path)));
    vm.vfs = Some(root);
    for p in path {
        if let Ok(s) = vm.new_str(p.as_bytes()) {
            let _ = vm.list_append(vm.sys_path, s);
        }
    }
    vm.young.clear();
}

/// What `open()`, the file types and `os` need from the VM: the mounted filesystem, paths from
/// Python arguments, and a [`VfsError`] raised as `OSError(errno)`.
impl<F: FlashImage> Vm<F> {
    /// Raises `OSError(err.errno())` (printed `[Errno 2] ENOENT`, see [`Vm::errno_text`]).
    pub fn raise_vfs<T>(&mut self, err: VfsError) -> R<T> {
        self.raise_args("OSError", &[Value::small(err.errno())])
    }

    /// `r`'s value, or its error raised as an `OSError`.
    pub fn vfs_ok<T>(&mut self, r: Result<T, VfsError>) -> R<T> {
        r.or_else(|e| self.raise_vfs(e))
    }

    /// The mounted filesystem, or `OSError(ENODEV)` when the board has none.
    pub fn fs_root(&mut self) -> R<Rc<Root>> {
        match &self.vfs {
            Some(r) => Ok(r.clone()),
            None => self.raise_vfs(VfsError::NoDevice),
        }
    }

    /// Path argument `v` (a str; `default` when null, i.e. not given), resolved against
    /// `root`'s current directory.
    pub fn fs_path(&mut self, root: &Root, v: Value, default: &str) -> R<String> {
        let p = if v.is_null() {
            String::from(default)
        } else {
            match self.str_bytes(v) {
                Some(b) => String::from_utf8_lossy(b).into_owned(),
                None => return self.raise_msg("TypeError", "path must be a str"),
            }
        };
        let r = root.resolve(&p);
        self.vfs_ok(r)
    }
}

/// MicroPython's `sys.path` on a board with a filesystem: the current directory, then `/lib`.
pub const SYS_PATH: &[&str] = &["", "/lib"];

#[cfg(feature = "std")]
pub use host::{HostDir, MAX_OPEN};

#[cfg(feature = "std")]
mod host {
    //! [`HostDir`]: a [`Vfs`] over a directory of the host, with a capacity so that the host
    //! rehearses the board's limits (a full filesystem is `ENOSPC` here too).

    use super::*;
    use std::collections::BTreeMap;
    use std::fs;
    use std::io::{self, Read, Seek, Write};
    use std::path::{Component, Path, PathBuf};

    /// A directory of the host as a [`Vfs`]: `/a/b` is `<dir>/a/b`. Symbolic links are refused
    /// ([`VfsError::Access`]), so no path leads outside the directory.
    pub struct HostDir {
        dir: PathBuf,
        capacity: u64,
        max_open: usize,
        files: RefCell<BTreeMap<u32, (fs::File, OpenMode)>>,
        next: RefCell<u32>,
    }

    /// Block size the capacity is counted in (the Pico's erase unit).
    const BLOCK: u64 = 4096;
    /// Files open at once, as many as the Pico's littlefs file slots.
    pub const MAX_OPEN: usize = 4;

    impl HostDir {
        /// The directory `dir` (created if missing) holding at most `capacity` bytes, counted in
        /// 4 KiB blocks per file and directory as littlefs does (roughly), with at most
        /// [`MAX_OPEN`] files open at once.
        pub fn new(dir: impl Into<PathBuf>, capacity: u64) -> io::Result<HostDir> {
            let dir = dir.into();
            fs::create_dir_all(&dir)?;
            Ok(HostDir {
                dir,
                capacity,
                max_open: MAX_OPEN,
                files: RefCell::new(BTreeMap::new()),
                next: RefCell::new(3),
            })
        }

        /// The host path of `path`, refusing symbolic links on the way.
        fn host(&self, path: &str) -> Result<PathBuf, VfsError> {
            let mut p = self.dir.clone();
            for part in path.split('/').filter(|s| !s.is_empty()) {
                if Path::new(part).components().count() != 1
                    || !matches!(
                        Path::new(part).components().next(),
                        Some(Component::Normal(_))
                    )
                {
                    return Err(VfsError::Invalid);
                }
                p.push(part);
                if fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(VfsError::Access);
                }
            }
            Ok(p)
        }

        /// Blocks in use, counted as [`HostDir::new`] says.
        fn used_blocks(&self) -> u64 {
            fn walk(p: &Path) -> u64 {
                let mut n = 1;
                if let Ok(rd) = fs::read_dir(p) {
                    for e in rd.flatten() {
                        match e.metadata() {
                            Ok(m) if m.is_dir() => n += walk(&e.path()),
                            Ok(m) => n += m.len().div_ceil(BLOCK).max(1),
                            Err(_) => {}
                        }
                    }
                }
                n
            }
            walk(&self.dir)
        }

        fn with_file<T>(
            &self,
            fd: Fd,
            f: impl FnOnce(&mut fs::File, OpenMode) -> Result<T, VfsError>,
        ) -> Result<T, VfsError> {
            let mut files = self.files.borrow_mut();
            let (file, mode) = files.get_mut(&fd.0).ok_or(VfsError::BadFd)?;
            f(file, *mode)
        }
    }

    /// The [`VfsError`] for a host I/O error.
    fn map(e: io::Error) -> VfsError {
        match e.raw_os_error() {
            Some(2) => VfsError::NotFound,
            Some(13) | Some(1) => VfsError::Access,
            Some(17) => VfsError::Exists,
            Some(20) => VfsError::NotDir,
            Some(21) => VfsError::IsDir,
            Some(22) => VfsError::Invalid,
            Some(24) => VfsError::TooManyOpen,
            Some(27) => VfsError::TooBig,
            Some(28) => VfsError::NoSpace,
            Some(36) => VfsError::NameTooLong,
            Some(39) => VfsError::NotEmpty,
            _ => match e.kind() {
                io::ErrorKind::NotFound => VfsError::NotFound,
                io::ErrorKind::AlreadyExists => VfsError::Exists,
                io::ErrorKind::PermissionDenied => VfsError::Access,
                io::ErrorKind::InvalidInput => VfsError::Invalid,
                _ => VfsError::Io,
            },
        }
    }

    impl Vfs for HostDir {
        fn open(&self, path: &str, mode: OpenMode) -> Result<Fd, VfsError> {
            let p = self.host(path)?;
            if p.is_dir() {
                return Err(VfsError::IsDir);
            }
            let mut o = fs::OpenOptions::new();
            o.read(mode.read)
                .write(mode.write && !mode.append)
                .append(mode.append)
                .truncate(mode.truncate);
            if mode.exclusive {
                o.create_new(true);
            } else {
                o.create(mode.create);
            }
            if self.files.borrow().len() >= self.max_open {
                return Err(VfsError::TooManyOpen);
            }
            let file = o.open(&p).map_err(map)?;
            let mut next = self.next.borrow_mut();
            let fd = *next;
            *next += 1;
            self.files.borrow_mut().insert(fd, (file, mode));
            Ok(Fd(fd))
        }

        fn read(&self, fd: Fd, buf: &mut [u8]) -> Result<usize, VfsError> {
            self.with_file(fd, |f, mode| {
                if !mode.read {
                    return Err(VfsError::BadFd);
                }
                f.read(buf).map_err(map)
            })
        }

        fn write(&self, fd: Fd, data: &[u8]) -> Result<(), VfsError> {
            let full = self.used_blocks() * BLOCK + data.len() as u64 > self.capacity;
            self.with_file(fd, |f, mode| {
                if !mode.write {
                    return Err(VfsError::BadFd);
                }
                if full {
                    return Err(VfsError::NoSpace);
                }
                f.write_all(data).map_err(map)
            })
        }

        fn seek(&self, fd: Fd, pos: SeekFrom) -> Result<u32, VfsError> {
            self.with_file(fd, |f, _| {
                let p = match pos {
                    SeekFrom::Start(n) => io::SeekFrom::Start(n.into()),
                    SeekFrom::Current(n) => io::SeekFrom::Current(n.into()),
                    SeekFrom::End(n) => io::SeekFrom::End(n.into()),
                };
                let at = f.seek(p).map_err(map)?;
                u32::try_from(at).map_err(|_| VfsError::TooBig)
            })
        }

        fn flush(&self, fd: Fd) -> Result<(), VfsError> {
            self.with_file(fd, |f, _| f.flush().map_err(map))
        }

        fn close(&self, fd: Fd) -> Result<(), VfsError> {
            let (mut f, _) = self
                .files
                .borrow_mut()
                .remove(&fd.0)
                .ok_or(VfsError::BadFd)?;
            f.flush().map_err(map)
        }

        fn stat(&self, path: &str) -> Result<Stat, VfsError> {
            let m = fs::metadata(self.host(path)?).map_err(map)?;
            Ok(Stat {
                is_dir: m.is_dir(),
                size: if m.is_dir() {
                    0
                } else {
                    u32::try_from(m.len()).unwrap_or(u32::MAX)
                },
            })
        }

        fn list(&self, path: &str) -> Result<Vec<DirEntry>, VfsError> {
            let p = self.host(path)?;
            if !p.is_dir() {
                return Err(if p.exists() {
                    VfsError::NotDir
                } else {
                    VfsError::NotFound
                });
            }
            let mut out = Vec::new();
            for e in fs::read_dir(&p).map_err(map)? {
                let e = e.map_err(map)?;
                let Ok(name) = e.file_name().into_string() else {
                    continue;
                };
                let Ok(m) = e.metadata() else { continue };
                if m.file_type().is_symlink() {
                    continue;
                }
                out.push(DirEntry {
                    name,
                    stat: Stat {
                        is_dir: m.is_dir(),
                        size: if m.is_dir() {
                            0
                        } else {
                            u32::try_from(m.len()).unwrap_or(u32::MAX)
                        },
                    },
                });
            }
            // A stable order, like a littlefs directory's.
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        }

        fn remove(&self, path: &str) -> Result<(), VfsError> {
            let p = self.host(path)?;
            if p.is_dir() {
                return Err(VfsError::IsDir);
            }
            fs::remove_file(p).map_err(map)
        }

        fn mkdir(&self, path: &str) -> Result<(), VfsError> {
            if path == "/" {
                return Err(VfsError::Exists);
            }
            if (self.used_blocks() + 1) * BLOCK > self.capacity {
                return Err(VfsError::NoSpace);
            }
            fs::create_dir(self.host(path)?).map_err(map)
        }

        fn rmdir(&self, path: &str) -> Result<(), VfsError> {
            if path == "/" {
                return Err(VfsError::Invalid);
            }
            let p = self.host(path)?;
            if !p.is_dir() {
                return Err(if p.exists() {
                    VfsError::NotDir
                } else {
                    VfsError::NotFound
                });
            }
            fs::remove_dir(p).map_err(map)
        }

        fn rename(&self, from: &str, to: &str) -> Result<(), VfsError> {
            if to.starts_with(from) && to.as_bytes().get(from.len()) == Some(&b'/') {
                return Err(VfsError::Invalid);
            }
            fs::rename(self.host(from)?, self.host(to)?).map_err(map)
        }

        fn statvfs(&self) -> Result<StatVfs, VfsError> {
            let blocks = self.capacity / BLOCK;
            Ok(StatVfs {
                block_size: BLOCK as u32,
                blocks: blocks as u32,
                free: blocks.saturating_sub(self.used_blocks()) as u32,
                name_max: NAME_MAX as u32,
            })
        }
    }
}
