//! The Pico's filesystem: littlefs (its C core, from `littlefs2-sys`, cross-built for the
//! Cortex-M0+) on the flash region after the image, as minivm's [`Vfs`].
//!
//! Geometry: 128 blocks of 4 KiB (the flash's erase unit) at flash `0x18_0000`, programmed in
//! 256-byte pages, read through XIP; one 256-byte cache each for reads, programs and every open
//! file, a 16-byte lookahead (a bit per block), wear levelling every 500 erase cycles. Up to
//! [`MAX_FILES`] files are open at once.
//!
//! littlefs is power-safe: a file's new contents become visible only when it is closed (or
//! flushed), so a power cut during a write leaves the file as it was, and the filesystem always
//! mounts again. At boot an **erased** region (a new board) is formatted; a region that holds
//! something littlefs cannot mount is left alone — nothing is erased behind the user's back —
//! and every operation then fails with `EIO` until `%fs-format` erases and formats it.
//!
//! Why `littlefs2-sys` and not the `littlefs2` crate's safe API: that API closes files at the end
//! of a closure, while a console session keeps files open across statements (`f = open(...)`,
//! then `f.write(...)` in each of mpremote's commands), and it cannot re-format a mounted
//! filesystem or take its storage back after a failed mount. The C calls here are few, and each
//! says why it is sound.
//!
//! Memory: the littlefs state, its three buffers and the file slots live in one allocation that
//! is never moved or freed (littlefs keeps pointers into it between calls); the flash region
//! lives in another, which the C callbacks reach through `lfs_config.context`.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;
use core::ffi::{c_int, c_void};
use core::fmt;
use core::ptr::{NonNull, addr_of_mut};

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use littlefs2_sys as ll;
use minivm::vfs::{DirEntry, Fd, OpenMode, SeekFrom, Stat, StatVfs, Vfs, VfsError};

use crate::flash::{ERASE_SIZE, RegionFlash, WRITE_SIZE};

/// littlefs block: one flash sector.
pub const BLOCK_SIZE: u32 = ERASE_SIZE as u32;
/// Files open at once.
pub const MAX_FILES: usize = 4;
/// The read, program and per-file cache size: one flash page.
const CACHE: usize = WRITE_SIZE;
/// Lookahead buffer, in 32-bit words (a bit per block: 128 blocks).
const LOOKAHEAD_WORDS: usize = 4;
/// Erase cycles of a metadata block before littlefs moves it (wear levelling).
const BLOCK_CYCLES: i32 = 500;

/// Whether the filesystem is usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Mounted (`formatted`: the region was erased and has just been formatted).
    Mounted {
        /// Formatted at this boot.
        formatted: bool,
    },
    /// littlefs could not mount it (its error code); the region was left as it is.
    Unmountable(i32),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Mounted { formatted: false } => f.write_str("mounted"),
            Status::Mounted { formatted: true } => {
                f.write_str("mounted (erased region, formatted)")
            }
            Status::Unmountable(code) => write!(
                f,
                "not mounted: littlefs error {code} ({}); files raise OSError(EIO); %fs-format formats it (its files are lost)",
                if *code == ll::lfs_error_LFS_ERR_CORRUPT {
                    "corrupted"
                } else {
                    "I/O error"
                }
            ),
        }
    }
}

/// One open-file slot.
struct Slot {
    used: bool,
    /// Bumped at each open, so a stale [`Fd`] of a reused slot is refused.
    generation: u32,
    file: ll::lfs_file_t,
    cfg: ll::lfs_file_config,
    buf: [u8; CACHE],
}

/// Everything littlefs points into: allocated once, never moved, never freed.
struct State {
    lfs: ll::lfs_t,
    cfg: ll::lfs_config,
    read_buf: [u8; CACHE],
    prog_buf: [u8; CACHE],
    lookahead: [u32; LOOKAHEAD_WORDS],
    slots: [Slot; MAX_FILES],
}

/// littlefs on a flash region; see the module docs.
pub struct Lfs {
    state: NonNull<State>,
    status: Cell<Status>,
    /// A littlefs call is in progress (a re-entrant call is refused with `EIO`).
    busy: Cell<bool>,
    blocks: u32,
}

/// The littlefs error for an operation of the region adapter that failed.
const IO: c_int = ll::lfs_error_LFS_ERR_IO as c_int;

/// littlefs's read callback: `size` bytes at `off` in `block`, through XIP.
unsafe extern "C" fn lfs_read(
    c: *const ll::lfs_config,
    block: ll::lfs_block_t,
    off: ll::lfs_off_t,
    buf: *mut c_void,
    size: ll::lfs_size_t,
) -> c_int {
    // SAFETY: `c` is the `cfg` of a live `State`; its `context` is the region allocated by
    // `Lfs::mount`, which lives for the program, and no other reference to it exists while
    // littlefs runs (Rust code only touches it through this pointer, inside littlefs calls).
    // `buf` is a littlefs buffer of at least `size` bytes.
    let (flash, dst) = unsafe {
        (
            &mut *((*c).context as *mut RegionFlash),
            core::slice::from_raw_parts_mut(buf as *mut u8, size as usize),
        )
    };
    match flash.read(block * BLOCK_SIZE + off, dst) {
        Ok(()) => 0,
        Err(_) => IO,
    }
}

/// littlefs's program callback: whole pages, at page-aligned offsets (its `prog_size`).
unsafe extern "C" fn lfs_prog(
    c: *const ll::lfs_config,
    block: ll::lfs_block_t,
    off: ll::lfs_off_t,
    buf: *const c_void,
    size: ll::lfs_size_t,
) -> c_int {
    // SAFETY: as in `lfs_read`; `buf` holds `size` bytes (a littlefs cache, in RAM).
    let (flash, src) = unsafe {
        (
            &mut *((*c).context as *mut RegionFlash),
            core::slice::from_raw_parts(buf as *const u8, size as usize),
        )
    };
    match flash.write(block * BLOCK_SIZE + off, src) {
        Ok(()) => 0,
        Err(_) => IO,
    }
}

/// littlefs's erase callback: one block (a sector).
unsafe extern "C" fn lfs_erase(c: *const ll::lfs_config, block: ll::lfs_block_t) -> c_int {
    // SAFETY: as in `lfs_read`.
    let flash = unsafe { &mut *((*c).context as *mut RegionFlash) };
    let from = block * BLOCK_SIZE;
    match flash.erase(from, from + BLOCK_SIZE) {
        Ok(()) => 0,
        Err(_) => IO,
    }
}

/// littlefs's sync callback: the ROM's programs are complete when they return.
unsafe extern "C" fn lfs_sync(_c: *const ll::lfs_config) -> c_int {
    0
}

/// The [`VfsError`] of a negative littlefs result.
fn err(code: c_int) -> VfsError {
    match code {
        ll::lfs_error_LFS_ERR_NOENT => VfsError::NotFound,
        ll::lfs_error_LFS_ERR_EXIST => VfsError::Exists,
        ll::lfs_error_LFS_ERR_NOTDIR => VfsError::NotDir,
        ll::lfs_error_LFS_ERR_ISDIR => VfsError::IsDir,
        ll::lfs_error_LFS_ERR_NOTEMPTY => VfsError::NotEmpty,
        ll::lfs_error_LFS_ERR_BADF => VfsError::BadFd,
        ll::lfs_error_LFS_ERR_FBIG => VfsError::TooBig,
        ll::lfs_error_LFS_ERR_INVAL => VfsError::Invalid,
        ll::lfs_error_LFS_ERR_NOSPC => VfsError::NoSpace,
        ll::lfs_error_LFS_ERR_NOMEM => VfsError::NoMemory,
        ll::lfs_error_LFS_ERR_NAMETOOLONG => VfsError::NameTooLong,
        // IO, CORRUPT, and anything unexpected.
        _ => VfsError::Io,
    }
}

/// `Ok(value)` for a non-negative littlefs result.
fn check(code: c_int) -> Result<u32, VfsError> {
    if code < 0 {
        Err(err(code))
    } else {
        Ok(code as u32)
    }
}

/// `path` with a terminating NUL, for C.
fn c_path(path: &str) -> Result<Vec<u8>, VfsError> {
    if path.as_bytes().contains(&0) {
        return Err(VfsError::Invalid);
    }
    let mut c = Vec::new();
    c.try_reserve_exact(path.len() + 1)
        .map_err(|_| VfsError::NoMemory)?;
    c.extend_from_slice(path.as_bytes());
    c.push(0);
    Ok(c)
}

impl Lfs {
    /// Mounts littlefs on `flash` (formatting it first if it is erased); never fails: see
    /// [`Lfs::status`] for what happened.
    pub fn mount(flash: RegionFlash) -> Lfs {
        let len = flash.as_slice().len() as u32;
        let erased = flash.as_slice()[..2 * BLOCK_SIZE as usize]
            .iter()
            .all(|&b| b == 0xFF);
        // The region's own allocation, reached by the callbacks through `context`.
        let flash = NonNull::from(Box::leak(Box::new(flash)));
        // SAFETY: every field of `State` is plain C data, arrays of integers or `bool`, for which
        // all-zero bytes are a valid value (littlefs expects zeroed state before mount/format).
        let state: Box<State> = unsafe { Box::<State>::new_zeroed().assume_init() };
        let state = NonNull::from(Box::leak(state));
        let p = state.as_ptr();
        // SAFETY: `p` is the only pointer to the new `State` (leaked, so it lives for the program
        // and never moves); the buffers it hands littlefs are fields of it.
        unsafe {
            let cfg = &mut *addr_of_mut!((*p).cfg);
            cfg.context = flash.as_ptr().cast();
            cfg.read = Some(lfs_read);
            cfg.prog = Some(lfs_prog);
            cfg.erase = Some(lfs_erase);
            cfg.sync = Some(lfs_sync);
            cfg.read_size = 1;
            cfg.prog_size = WRITE_SIZE as u32;
            cfg.block_size = BLOCK_SIZE;
            cfg.block_count = len / BLOCK_SIZE;
            cfg.block_cycles = BLOCK_CYCLES;
            cfg.cache_size = CACHE as u32;
            cfg.lookahead_size = (LOOKAHEAD_WORDS * 4) as u32;
            cfg.read_buffer = addr_of_mut!((*p).read_buf).cast();
            cfg.prog_buffer = addr_of_mut!((*p).prog_buf).cast();
            cfg.lookahead_buffer = addr_of_mut!((*p).lookahead).cast();
        }
        let lfs = Lfs {
            state,
            status: Cell::new(Status::Unmountable(IO)),
            busy: Cell::new(false),
            blocks: len / BLOCK_SIZE,
        };
        let status = if erased {
            match lfs.format_and_mount() {
                Ok(()) => Status::Mounted { formatted: true },
                Err(code) => Status::Unmountable(code),
            }
        } else {
            let mount = |p: *mut State| {
                // SAFETY: `call` runs this with the live state and nothing else in littlefs.
                unsafe { ll::lfs_mount(addr_of_mut!((*p).lfs), addr_of_mut!((*p).cfg)) }
            };
            match lfs.call(mount) {
                Ok(0) => Status::Mounted { formatted: false },
                Ok(code) | Err(code) => Status::Unmountable(code),
            }
        };
        lfs.status.set(status);
        lfs
    }

    /// What the mount found.
    pub fn status(&self) -> Status {
        self.status.get()
    }

    /// Blocks of the filesystem.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// Runs one littlefs call with the state pointer; `Err(LFS_ERR_IO)` if one is already running.
    fn call<T>(&self, f: impl FnOnce(*mut State) -> T) -> Result<T, c_int> {
        if self.busy.replace(true) {
            return Err(IO);
        }
        let r = f(self.state.as_ptr());
        self.busy.set(false);
        Ok(r)
    }

    /// Like [`Lfs::call`] for a mounted filesystem, the result as a [`VfsError`].
    fn op(&self, f: impl FnOnce(*mut State) -> c_int) -> Result<u32, VfsError> {
        match self.status.get() {
            Status::Mounted { .. } => check(self.call(f).map_err(err)?),
            Status::Unmountable(_) => Err(VfsError::Io),
        }
    }

    fn format_and_mount(&self) -> Result<(), i32> {
        // SAFETY: see `Lfs::call`; the state is live and unmounted here.
        let code = self
            .call(|p| unsafe {
                let r = ll::lfs_format(addr_of_mut!((*p).lfs), addr_of_mut!((*p).cfg));
                if r < 0 {
                    r
                } else {
                    ll::lfs_mount(addr_of_mut!((*p).lfs), addr_of_mut!((*p).cfg))
                }
            })
            .unwrap_or(IO);
        if code < 0 { Err(code) } else { Ok(()) }
    }

    /// Closes every open file, erases the region and formats it (`%fs-format`): all files are lost.
    pub fn format(&self) -> Result<(), VfsError> {
        self.close_all();
        if let Status::Mounted { .. } = self.status.get() {
            // SAFETY: see `Lfs::call`; mounted, no file open any more.
            let _ = self.call(|p| unsafe { ll::lfs_unmount(addr_of_mut!((*p).lfs)) });
        }
        let r = self.format_and_mount();
        self.status.set(match r {
            Ok(()) => Status::Mounted { formatted: true },
            Err(code) => Status::Unmountable(code),
        });
        r.map_err(err)
    }

    /// Closes every open file (a soft reboot drops the VM that held them).
    pub fn close_all(&self) {
        for i in 0..MAX_FILES {
            // SAFETY: reads a flag of the live state; no littlefs call runs now.
            let used = unsafe { (*self.state.as_ptr()).slots[i].used };
            if used {
                let _ = self.close_slot(i);
            }
        }
    }

    /// The slot of `fd`, if it is open.
    fn slot(&self, fd: Fd) -> Result<usize, VfsError> {
        let i = (fd.0 % MAX_FILES as u32) as usize;
        // SAFETY: reads two fields of the live state; no littlefs call runs now.
        let (used, generation) = unsafe {
            let s = &(*self.state.as_ptr()).slots[i];
            (s.used, s.generation)
        };
        if used && fd.0 / MAX_FILES as u32 == generation {
            Ok(i)
        } else {
            Err(VfsError::BadFd)
        }
    }

    fn close_slot(&self, i: usize) -> Result<(), VfsError> {
        // SAFETY: slot `i` holds an open file of this mounted filesystem; closing unlinks it from
        // littlefs's list of open files, after which the slot may be reused.
        let r = self.op(|p| unsafe {
            ll::lfs_file_close(addr_of_mut!((*p).lfs), addr_of_mut!((*p).slots[i].file))
        });
        // SAFETY: no littlefs call runs now; the file is closed (or its close failed for good).
        unsafe { (*self.state.as_ptr()).slots[i].used = false };
        r.map(|_| ())
    }
}

/// [`Lfs`] shared by the VM's `Root` and the board commands.
pub struct SharedLfs(pub Rc<Lfs>);

impl Vfs for SharedLfs {
    fn open(&self, path: &str, mode: OpenMode) -> Result<Fd, VfsError> {
        let lfs = &*self.0;
        let c = c_path(path)?;
        // SAFETY: reads flags of the live state; no littlefs call runs now.
        let free = (0..MAX_FILES).find(|&i| unsafe { !(*lfs.state.as_ptr()).slots[i].used });
        let Some(i) = free else {
            return Err(VfsError::TooManyOpen);
        };
        let mut flags = match (mode.read, mode.write) {
            (true, true) => ll::lfs_open_flags_LFS_O_RDWR,
            (false, true) => ll::lfs_open_flags_LFS_O_WRONLY,
            _ => ll::lfs_open_flags_LFS_O_RDONLY,
        };
        for (on, f) in [
            (mode.create, ll::lfs_open_flags_LFS_O_CREAT),
            (mode.exclusive, ll::lfs_open_flags_LFS_O_EXCL),
            (mode.truncate, ll::lfs_open_flags_LFS_O_TRUNC),
            (mode.append, ll::lfs_open_flags_LFS_O_APPEND),
        ] {
            if on {
                flags |= f;
            }
        }
        // SAFETY: slot `i` is free; its file, config and buffer are fields of the live state, which
        // littlefs may keep pointers to until the file is closed; `c` is NUL-terminated.
        lfs.op(|p| unsafe {
            let slot = addr_of_mut!((*p).slots[i]);
            (*slot).cfg = core::mem::zeroed();
            (*slot).cfg.buffer = addr_of_mut!((*slot).buf).cast();
            ll::lfs_file_opencfg(
                addr_of_mut!((*p).lfs),
                addr_of_mut!((*slot).file),
                c.as_ptr().cast(),
                flags as c_int,
                addr_of_mut!((*slot).cfg),
            )
        })?;
        // SAFETY: no littlefs call runs now; slot `i` now holds the open file.
        let generation = unsafe {
            let s = &mut (*lfs.state.as_ptr()).slots[i];
            s.used = true;
            s.generation = s.generation.wrapping_add(1) % (u32::MAX / MAX_FILES as u32);
            s.generation
        };
        Ok(Fd(generation * MAX_FILES as u32 + i as u32))
    }

    fn read(&self, fd: Fd, buf: &mut [u8]) -> Result<usize, VfsError> {
        let i = self.0.slot(fd)?;
        let n = buf.len().min(i32::MAX as usize) as u32;
        // SAFETY: slot `i` holds an open file; littlefs writes at most `n` bytes into `buf`.
        let got = self.0.op(|p| unsafe {
            ll::lfs_file_read(
                addr_of_mut!((*p).lfs),
                addr_of_mut!((*p).slots[i].file),
                buf.as_mut_ptr().cast(),
                n,
            )
        })?;
        Ok((got as usize).min(buf.len()))
    }

    fn write(&self, fd: Fd, data: &[u8]) -> Result<(), VfsError> {
        let i = self.0.slot(fd)?;
        // SAFETY: slot `i` holds an open file; littlefs reads `data.len()` bytes from `data`.
        let n = self.0.op(|p| unsafe {
            ll::lfs_file_write(
                addr_of_mut!((*p).lfs),
                addr_of_mut!((*p).slots[i].file),
                data.as_ptr().cast(),
                data.len() as u32,
            )
        })?;
        if (n as usize) < data.len() {
            return Err(VfsError::NoSpace);
        }
        Ok(())
    }

    fn seek(&self, fd: Fd, pos: SeekFrom) -> Result<u32, VfsError> {
        let i = self.0.slot(fd)?;
        let (off, whence) = match pos {
            SeekFrom::Start(n) => (
                i32::try_from(n).map_err(|_| VfsError::Invalid)?,
                ll::lfs_whence_flags_LFS_SEEK_SET,
            ),
            SeekFrom::Current(n) => (n, ll::lfs_whence_flags_LFS_SEEK_CUR),
            SeekFrom::End(n) => (n, ll::lfs_whence_flags_LFS_SEEK_END),
        };
        // SAFETY: slot `i` holds an open file.
        self.0.op(|p| unsafe {
            ll::lfs_file_seek(
                addr_of_mut!((*p).lfs),
                addr_of_mut!((*p).slots[i].file),
                off,
                whence as c_int,
            )
        })
    }

    fn flush(&self, fd: Fd) -> Result<(), VfsError> {
        let i = self.0.slot(fd)?;
        // SAFETY: slot `i` holds an open file.
        self.0
            .op(|p| unsafe {
                ll::lfs_file_sync(addr_of_mut!((*p).lfs), addr_of_mut!((*p).slots[i].file))
            })
            .map(|_| ())
    }

    fn close(&self, fd: Fd) -> Result<(), VfsError> {
        let i = self.0.slot(fd)?;
        self.0.close_slot(i)
    }

    fn stat(&self, path: &str) -> Result<Stat, VfsError> {
        let c = c_path(path)?;
        // SAFETY: `lfs_info` is plain C data (integers and a char array): all zeroes is valid.
        let mut info: ll::lfs_info = unsafe { core::mem::zeroed() };
        // SAFETY: `info` is an out-parameter littlefs fills; `c` is NUL-terminated.
        self.0.op(|p| unsafe {
            ll::lfs_stat(addr_of_mut!((*p).lfs), c.as_ptr().cast(), &mut info)
        })?;
        Ok(Stat {
            is_dir: info.type_ as u32 == ll::lfs_type_LFS_TYPE_DIR,
            size: info.size,
        })
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, VfsError> {
        let c = c_path(path)?;
        let mut out = Vec::new();
        let r = self.0.op(|p| {
            // SAFETY: `dir` stays on this stack frame from open to close (littlefs lists it as an
            // open directory in between); `info` is an out-parameter; `c` is NUL-terminated.
            unsafe {
                let lfs = addr_of_mut!((*p).lfs);
                let mut dir: ll::lfs_dir_t = core::mem::zeroed();
                let r = ll::lfs_dir_open(lfs, &mut dir, c.as_ptr().cast());
                if r < 0 {
                    return r;
                }
                let mut info: ll::lfs_info = core::mem::zeroed();
                let r;
                loop {
                    let n = ll::lfs_dir_read(lfs, &mut dir, &mut info);
                    if n <= 0 {
                        r = n;
                        break;
                    }
                    let len = info
                        .name
                        .iter()
                        .position(|&c| c == 0)
                        .unwrap_or(info.name.len());
                    let name: Vec<u8> = info.name[..len].to_vec();
                    if name == b"." || name == b".." {
                        continue;
                    }
                    if out.try_reserve(1).is_err() {
                        r = ll::lfs_error_LFS_ERR_NOMEM as c_int;
                        break;
                    }
                    out.push(DirEntry {
                        name: String::from_utf8_lossy(&name).into_owned(),
                        stat: Stat {
                            is_dir: info.type_ as u32 == ll::lfs_type_LFS_TYPE_DIR,
                            size: info.size,
                        },
                    });
                }
                let closed = ll::lfs_dir_close(lfs, &mut dir);
                if r < 0 { r } else { closed }
            }
        });
        r.map(|_| out)
    }

    fn remove(&self, path: &str) -> Result<(), VfsError> {
        if self.stat(path)?.is_dir {
            return Err(VfsError::IsDir);
        }
        let c = c_path(path)?;
        // SAFETY: `c` is NUL-terminated.
        self.0
            .op(|p| unsafe { ll::lfs_remove(addr_of_mut!((*p).lfs), c.as_ptr().cast()) })
            .map(|_| ())
    }

    fn mkdir(&self, path: &str) -> Result<(), VfsError> {
        let c = c_path(path)?;
        // SAFETY: `c` is NUL-terminated.
        self.0
            .op(|p| unsafe { ll::lfs_mkdir(addr_of_mut!((*p).lfs), c.as_ptr().cast()) })
            .map(|_| ())
    }

    fn rmdir(&self, path: &str) -> Result<(), VfsError> {
        if path == "/" {
            return Err(VfsError::Invalid);
        }
        if !self.stat(path)?.is_dir {
            return Err(VfsError::NotDir);
        }
        let c = c_path(path)?;
        // SAFETY: `c` is NUL-terminated.
        self.0
            .op(|p| unsafe { ll::lfs_remove(addr_of_mut!((*p).lfs), c.as_ptr().cast()) })
            .map(|_| ())
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), VfsError> {
        if to.starts_with(from) && to.as_bytes().get(from.len()) == Some(&b'/') {
            return Err(VfsError::Invalid);
        }
        let (a, b) = (c_path(from)?, c_path(to)?);
        // SAFETY: both paths are NUL-terminated.
        self.0
            .op(|p| unsafe {
                ll::lfs_rename(addr_of_mut!((*p).lfs), a.as_ptr().cast(), b.as_ptr().cast())
            })
            .map(|_| ())
    }

    fn statvfs(&self) -> Result<StatVfs, VfsError> {
        SharedLfs::statvfs_of(&self.0)
    }
}

impl Lfs {
    /// Asks the filesystem's region adapter to erase and to program just past the region's end
    /// (`%flash-guard`): both must be refused, since littlefs's blocks are the region's only.
    pub fn probe_past_end(&self) -> [Result<(), crate::flash::FlashError>; 2] {
        let end = self.blocks * BLOCK_SIZE;
        let page = [0u8; WRITE_SIZE];
        let r = self.call(|p| {
            // SAFETY: no littlefs call is running (`call` checked), so this is the only reference
            // to the region, which `mount` leaked into `cfg.context`.
            let flash = unsafe { &mut *((*p).cfg.context as *mut RegionFlash) };
            [flash.erase(end, end + BLOCK_SIZE), flash.write(end, &page)]
        });
        r.unwrap_or([Ok(()), Ok(())])
    }

    /// Files open now.
    pub fn open_files(&self) -> usize {
        (0..MAX_FILES)
            // SAFETY: reads flags of the live state; no littlefs call runs now.
            .filter(|&i| unsafe { (*self.state.as_ptr()).slots[i].used })
            .count()
    }
}

impl SharedLfs {
    /// `statvfs` of `lfs` (for the board commands, which hold the `Lfs` itself).
    pub fn statvfs_of(lfs: &Lfs) -> Result<StatVfs, VfsError> {
        // SAFETY: a read-only traversal of the mounted filesystem.
        let used = lfs.op(|p| unsafe { ll::lfs_fs_size(addr_of_mut!((*p).lfs)) })?;
        Ok(StatVfs {
            block_size: BLOCK_SIZE,
            blocks: lfs.blocks,
            free: lfs.blocks.saturating_sub(used),
            name_max: minivm::vfs::NAME_MAX as u32,
        })
    }
}
