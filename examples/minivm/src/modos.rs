//! The `os` module (`uos`) and `open()`: files and directories on the VM's [`Root`].
//!
//! As on MicroPython's littlefs ports: `os.listdir`, `os.ilistdir` (tuples `(name, type, 0,
//! size)`), `os.stat` (a 10-tuple: `st_mode`, …, `st_size` at index 6), `os.statvfs` (a
//! 10-tuple), `os.remove`, `os.rmdir`, `os.mkdir`, `os.rename`, `os.getcwd`, `os.chdir`; and
//! `open(path, mode='r')` giving a file with `read([n])`, `readline()`, `write(data)`,
//! `seek(offset[, whence])`, `tell()`, `flush()`, `close()` and `with` support. Every filesystem
//! failure is an `OSError` whose `errno` is the [`VfsError`]'s; with no filesystem mounted it is
//! `ENODEV`. A file opened in text mode reads as `str`, in binary mode as `bytes`; both modes
//! write `str` or `bytes`.
//!
//! A file object is a native handle (so freezing refuses it, as it must):
//!
//! ```text
//! [hdr: Open native id | Handle] [small: fd << 2 | closed << 1 | binary] [list: [path]]
//! ```
//!
//! Files dropped without `close()` are closed when `open()` runs out of descriptors: a
//! collection, then every descriptor whose file object is gone is closed (MicroPython's
//! finaliser does the same work).

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::natives::Native;
use crate::obj::{Kind, Value};
use crate::vfs::{Fd, OpenMode, Root, SeekFrom, VfsError};
use crate::vm::{R, Vm};

const CLOSED: i32 = 2;
const BINARY: i32 = 1;

impl<F: FlashImage> Vm<F> {
    /// Raises `OSError(err.errno())`.
    pub fn raise_vfs<T>(&mut self, err: VfsError) -> R<T> {
        self.raise_args("OSError", &[Value::small(err.errno())])
    }

    /// How MicroPython prints an `OSError` whose argument is an errno its `errno` module names:
    /// `[Errno 2] ENOENT` (for other numbers, just the number, as there).
    pub fn errno_text(&self, exc: Value, arg: Value) -> Option<String> {
        if !arg.is_int() || !self.is_subclass(self.type_of(exc), self.exc_class("OSError")) {
            return None;
        }
        let (_, m) = self.st.modules.iter().find(|(n, _)| *n == "uerrno")?;
        let g = self.wv(Value(*m), 2);
        (0..self.dict_len(g)).find_map(|i| {
            let (k, v) = self.dict_entry(g, i);
            (v == arg).then(|| {
                let name = String::from_utf8_lossy(self.str_bytes(k).unwrap_or(b"?"));
                alloc::format!("[Errno {}] {name}", arg.as_int())
            })
        })
    }

    /// The mounted filesystem, or `OSError(ENODEV)`.
    fn root(&mut self) -> R<Rc<Root>> {
        match &self.vfs {
            Some(r) => Ok(r.clone()),
            None => self.raise_vfs(VfsError::NoDevice),
        }
    }

    /// `path` argument `i` (str), resolved against the current directory (`default` if absent).
    fn path_arg(&mut self, root: &Root, args: &[Value], i: usize, default: &str) -> R<String> {
        let p = match args.get(i) {
            None => String::from(default),
            Some(v) => match self.str_bytes(*v) {
                Some(b) => String::from_utf8_lossy(b).into_owned(),
                None => return self.raise_msg("TypeError", "path must be a str"),
            },
        };
        match root.resolve(&p) {
            Ok(p) => Ok(p),
            Err(e) => self.raise_vfs(e),
        }
    }

    fn vfs_ok<T>(&mut self, r: Result<T, VfsError>) -> R<T> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => self.raise_vfs(e),
        }
    }

    /// Is `v` a file object (open or closed)?
    pub fn is_file(&self, v: Value) -> bool {
        self.kind(v) == Some(Kind::Handle) && self.aux(v) == Native::Open as u32
    }

    /// The open file behind `v`: its descriptor and whether it is binary.
    fn file_arg(&mut self, v: Value) -> R<(Fd, bool)> {
        if !self.is_file(v) {
            return self.raise_msg("TypeError", "not a file");
        }
        let bits = self.wv(v, 1).as_int();
        if bits & CLOSED != 0 {
            return self.raise_msg("ValueError", "I/O operation on closed file");
        }
        Ok((Fd((bits >> 2) as u32), bits & BINARY != 0))
    }

    /// Opens a file, reclaiming descriptors of unreachable file objects when out of them.
    fn open_file(&mut self, root: &Root, path: &str, mode: OpenMode) -> R<Fd> {
        match root.fs().open(path, mode) {
            Err(VfsError::TooManyOpen) => {
                self.collect();
                for (fd, owner) in root.owners() {
                    let alive = self.mem.is_heap_head(owner)
                        && self.is_file(Value(owner))
                        && (self.wv(Value(owner), 1).as_int() >> 2) as u32 == fd.0;
                    if !alive {
                        let _ = root.close(fd);
                    }
                }
                let r = root.fs().open(path, mode);
                self.vfs_ok(r)
            }
            r => self.vfs_ok(r),
        }
    }

    /// Reads until `want` bytes (all of the file when `None`) or the end.
    fn read_bytes(&mut self, root: &Root, fd: Fd, want: Option<usize>) -> R<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            let room = want.map_or(chunk.len(), |w| (w - out.len()).min(chunk.len()));
            if room == 0 {
                break;
            }
            let r = root.fs().read(fd, &mut chunk[..room]);
            match self.vfs_ok(r)? {
                0 => break,
                n => out.extend_from_slice(&chunk[..n.min(room)]),
            }
        }
        Ok(out)
    }

    fn text_or_bytes(&mut self, b: &[u8], binary: bool) -> R<Value> {
        if binary {
            self.new_str_obj(Kind::Bytes, b)
        } else {
            self.new_str(b)
        }
    }

    /// `(name, type, inode, size)` entries of a directory.
    fn dir_entries(&mut self, root: &Root, path: &str) -> R<Vec<Value>> {
        let r = root.fs().list(path);
        let entries = self.vfs_ok(r)?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let name = self.new_str(e.name.as_bytes())?;
            let t = self.new_tuple(&[
                name,
                Value::small(e.stat.mode() as i32),
                Value::small(0),
                Value::small(e.stat.size.min(i32::MAX as u32 >> 1) as i32),
            ])?;
            out.push(t);
        }
        Ok(out)
    }

    /// Dispatches `open`, the `os` functions and the file methods.
    pub fn call_os(&mut self, n: Native, args: &[Value], kw: &[Value]) -> R<Value> {
        use Native::*;
        let none = self.none();
        let a0 = args.first().copied().unwrap_or(Value::NULL);
        let root = self.root()?;
        match n {
            Open => {
                let path = self.path_arg(&root, args, 0, "")?;
                let mode_v = args.get(1).copied().or_else(|| {
                    kw.chunks(2)
                        .find(|p| self.str_bytes(p[0]) == Some(b"mode"))
                        .and_then(|p| p.get(1).copied())
                });
                let mode_s = match mode_v {
                    None => String::from("r"),
                    Some(v) => match self.str_bytes(v) {
                        Some(b) => String::from_utf8_lossy(b).into_owned(),
                        None => return self.raise_msg("TypeError", "mode must be a str"),
                    },
                };
                let Some(mode) = OpenMode::parse(&mode_s) else {
                    let msg = alloc::format!("invalid mode: '{mode_s}'");
                    return self.raise_msg("ValueError", &msg);
                };
                let fd = self.open_file(&root, &path, mode)?;
                let p = self.new_str(path.as_bytes());
                let l = p.and_then(|p| self.new_list(&[p]));
                let bits = ((fd.0 as i32) << 2) | if mode.binary { BINARY } else { 0 };
                let f = l.and_then(|l| {
                    self.alloc_obj(Kind::Handle, Open as u32, &[Value::small(bits), l])
                });
                match f {
                    Ok(f) => {
                        root.adopt(fd, f.0);
                        Ok(f)
                    }
                    Err(t) => {
                        let _ = root.fs().close(fd);
                        Err(t)
                    }
                }
            }
            OsListdir => {
                let path = self.path_arg(&root, args, 0, "")?;
                let entries = self.dir_entries(&root, &path)?;
                let names: Vec<Value> = entries.iter().map(|t| self.wv(*t, 1)).collect();
                self.new_list(&names)
            }
            OsIlistdir => {
                let path = self.path_arg(&root, args, 0, "")?;
                let entries = self.dir_entries(&root, &path)?;
                let l = self.new_list(&entries)?;
                self.get_iter(l)
            }
            OsStat => {
                let path = self.path_arg(&root, args, 0, "")?;
                let r = root.fs().stat(&path);
                let st = self.vfs_ok(r)?;
                let z = Value::small(0);
                let size = Value::small(st.size.min(i32::MAX as u32 >> 1) as i32);
                self.new_tuple(&[Value::small(st.mode() as i32), z, z, z, z, z, size, z, z, z])
            }
            OsStatvfs => {
                let r = root.fs().statvfs();
                let s = self.vfs_ok(r)?;
                let v = |x: u32| Value::small(x.min(i32::MAX as u32 >> 1) as i32);
                let z = Value::small(0);
                self.new_tuple(&[
                    v(s.block_size),
                    v(s.block_size),
                    v(s.blocks),
                    v(s.free),
                    v(s.free),
                    z,
                    z,
                    z,
                    z,
                    v(s.name_max),
                ])
            }
            OsRemove | OsRmdir | OsMkdir => {
                let path = self.path_arg(&root, args, 0, "")?;
                let r = match n {
                    OsRemove => root.fs().remove(&path),
                    OsRmdir => root.fs().rmdir(&path),
                    _ => root.fs().mkdir(&path),
                };
                self.vfs_ok(r)?;
                Ok(none)
            }
            OsRename => {
                let from = self.path_arg(&root, args, 0, "")?;
                let to = self.path_arg(&root, args, 1, "")?;
                let r = root.fs().rename(&from, &to);
                self.vfs_ok(r)?;
                Ok(none)
            }
            OsGetcwd => {
                let c = root.cwd();
                self.new_str(c.as_bytes())
            }
            OsChdir => {
                let path = self.path_arg(&root, args, 0, "")?;
                let r = root.chdir(&path);
                self.vfs_ok(r)?;
                Ok(none)
            }
            FileRead => {
                let (fd, binary) = self.file_arg(a0)?;
                let want = match args.get(1) {
                    Some(v) if v.0 != none.0 => match self.as_intlike(*v) {
                        Some(k) if k < 0 => None,
                        Some(k) => Some(k as usize),
                        None => return self.raise_msg("TypeError", "read size must be an int"),
                    },
                    _ => None,
                };
                let b = self.read_bytes(&root, fd, want)?;
                self.text_or_bytes(&b, binary)
            }
            FileReadline => {
                let (fd, binary) = self.file_arg(a0)?;
                let mut line = Vec::new();
                let mut c = [0u8; 1];
                loop {
                    let r = root.fs().read(fd, &mut c);
                    if self.vfs_ok(r)? == 0 {
                        break;
                    }
                    line.push(c[0]);
                    if c[0] == b'\n' {
                        break;
                    }
                }
                self.text_or_bytes(&line, binary)
            }
            FileWrite => {
                let (fd, _) = self.file_arg(a0)?;
                let data = args.get(1).copied().unwrap_or(Value::NULL);
                let bytes = match self.kind(data) {
                    Some(Kind::Bytes) => self.str_obj_bytes(data).map(<[u8]>::to_vec),
                    _ => self.str_bytes(data).map(<[u8]>::to_vec),
                };
                let Some(bytes) = bytes else {
                    return self.raise_msg("TypeError", "write() needs str or bytes");
                };
                let r = root.fs().write(fd, &bytes);
                self.vfs_ok(r)?;
                Ok(Value::small(bytes.len() as i32))
            }
            FileSeek => {
                let (fd, _) = self.file_arg(a0)?;
                let off = args.get(1).and_then(|v| self.as_intlike(*v)).unwrap_or(0);
                let whence = args.get(2).and_then(|v| self.as_intlike(*v)).unwrap_or(0);
                let pos = match (whence, i32::try_from(off)) {
                    (0, Ok(o)) if o >= 0 => SeekFrom::Start(o as u32),
                    (1, Ok(o)) => SeekFrom::Current(o),
                    (2, Ok(o)) => SeekFrom::End(o),
                    _ => return self.raise_vfs(VfsError::Invalid),
                };
                let r = root.fs().seek(fd, pos);
                let at = self.vfs_ok(r)?;
                self.int_val(at.into())
            }
            FileTell => {
                let (fd, _) = self.file_arg(a0)?;
                let r = root.fs().seek(fd, SeekFrom::Current(0));
                let at = self.vfs_ok(r)?;
                self.int_val(at.into())
            }
            FileFlush => {
                let (fd, _) = self.file_arg(a0)?;
                let r = root.fs().flush(fd);
                self.vfs_ok(r)?;
                Ok(none)
            }
            FileEnter => {
                self.file_arg(a0)?;
                Ok(a0)
            }
            FileExit | HandleClose => {
                if !self.is_file(a0) {
                    return self.raise_msg("TypeError", "not a file");
                }
                let bits = self.wv(a0, 1).as_int();
                if bits & CLOSED != 0 {
                    return Ok(none);
                }
                self.set_w(a0, 1, Value::small(bits | CLOSED).0)?;
                let r = root.close(Fd((bits >> 2) as u32));
                self.vfs_ok(r)?;
                Ok(none)
            }
            _ => self.raise_msg("RuntimeError", "not an os native"),
        }
    }
}
