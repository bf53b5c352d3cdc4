//! Files: what `open()` returns, on the VM's filesystem ([`crate::vfs`]). As in MicroPython
//! there are two types, `FileIO` (binary mode: reads give `bytes`) and `TextIOWrapper` (text
//! mode: reads give `str`); both write `str` or `bytes`.
//!
//! ```text
//! [hdr|FILE_IO or TEXT_IO] [small: fd << 1 | closed] [str: the resolved path]
//! ```
//!
//! Methods: `read([n])`, `readinto(buf[, n])`, `readline()`, `write(data)`, `seek(offset[, whence])`, `tell()`,
//! `flush()`, `close()`, `__enter__`/`__exit__` (`with`), and iteration by lines. A file has
//! no `len` and is always true. Every filesystem failure is an `OSError` with the
//! [`VfsError`]'s errno; with no filesystem mounted it is `ENODEV`; any use of a closed file but
//! `close()` is `ValueError: I/O operation on closed file`.
//!
//! The freezer refuses a file with its path in the graph: its descriptor lives in the
//! filesystem, not in the object graph, so a frozen copy could not work after a reboot.
//!
//! The console streams `sys.stdin`, `sys.stdout`, `sys.stderr` are files too (firmware
//! statics, built by [`console_streams`]): a `TextIOWrapper` whose path word is its binary
//! counterpart (`sys.stdout.buffer`, a `FileIO` whose path word is null), descriptors 0, 1, 2.
//! Writes go to the VM's output (`Vm::out`; stderr to `Vm::err` when the host keeps it
//! apart), reads see the end of input (this port's console input is the REPL's), `seek` is
//! refused; they print as `<io.TextIOWrapper 1>`, and being statics they are never frozen.
//!
//! Files dropped without `close()` are closed when `open()` runs out of descriptors: a
//! collection, then every descriptor whose file object is gone is closed (MicroPython's
//! finaliser does the same work).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{Kind, Value, header};
use crate::slots::{Attr, AttrOp, Freeze, Layout, Native, NativeType, PrintKind, TypeSlots};
use crate::vfs::{Fd, OpenMode, Root, SeekFrom, VfsError};
use crate::vm::{R, Vm};

/// The kind of a binary file.
pub const FILE_IO: Kind = Kind::new(33);
/// The kind of a text file.
pub const TEXT_IO: Kind = Kind::new(34);

const CLOSED: i32 = 1;

/// Why the freezer refuses a file.
const REFUSED: &str = "an open file (its descriptor does not survive a reboot)";

/// The methods both file types have.
macro_rules! file_methods {
    () => {
        &[
            Native::new("read", read),
            Native::new("readinto", readinto),
            Native::new("readline", readline),
            Native::new("write", write),
            Native::new("seek", seek),
            Native::new("tell", tell),
            Native::new("flush", flush),
            Native::new("close", close),
            Native::new("__enter__", enter),
            Native::new("__exit__", exit),
        ]
    };
}

/// The `FileIO` type (binary mode).
pub struct FileIo;

impl<F: FlashImage> NativeType<F> for FileIo {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Refuse(REFUSED),
        print: Some(print),
        getiter: Some(getiter),
        iternext: Some(iternext),
        methods: file_methods!(),
        ..TypeSlots::new(FILE_IO, "FileIO")
    };
}

/// The `TextIOWrapper` type (text mode).
pub struct TextIo;

impl<F: FlashImage> NativeType<F> for TextIo {
    const TYPE: TypeSlots<F> = TypeSlots {
        layout: Layout::Words(2),
        freeze: Freeze::Refuse(REFUSED),
        print: Some(print),
        attr: Some(attr),
        getiter: Some(getiter),
        iternext: Some(iternext),
        methods: file_methods!(),
        names: &["buffer"],
        ..TypeSlots::new(TEXT_IO, "TextIOWrapper")
    };
}

/// Is `v` a file object (open or closed)?
pub fn is_file<F: FlashImage>(vm: &Vm<F>, v: Value) -> bool {
    matches!(vm.kind(v), Some(k) if k == FILE_IO || k == TEXT_IO)
}

/// `open(path, mode='r')`: the builtin (registered by `modules::builtins`).
pub fn open<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    let root = vm.fs_root()?;
    if args.is_empty() {
        return vm.raise_msg("TypeError", "open() missing required argument 'file'");
    }
    let path = vm.fs_path(&root, arg(args, 0), "")?;
    let mode_v = args.get(1).copied().or_else(|| vm.kwarg(kw, "mode"));
    let mode_s = match mode_v {
        None => String::from("r"),
        Some(v) => match vm.str_bytes(v) {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => return vm.raise_msg("TypeError", "mode must be a str"),
        },
    };
    let Some(mode) = OpenMode::parse(&mode_s) else {
        let msg = alloc::format!("invalid mode: '{mode_s}'");
        return vm.raise_msg("ValueError", &msg);
    };
    let fd = open_fd(vm, &root, &path, mode)?;
    let kind = if mode.binary { FILE_IO } else { TEXT_IO };
    let f = vm
        .new_str(path.as_bytes())
        .and_then(|p| vm.alloc_obj(kind, 0, &[Value::small((fd.0 as i32) << 1), p]));
    match f {
        Ok(f) => {
            root.adopt(fd, f.0);
            Ok(f)
        }
        Err(t) => {
            let _ = root.close(fd);
            Err(t)
        }
    }
}

/// Opens `path`, reclaiming the descriptors of unreachable file objects when out of them.
fn open_fd<F: FlashImage>(vm: &mut Vm<F>, root: &Root, path: &str, mode: OpenMode) -> R<Fd> {
    let r = match root.fs().open(path, mode) {
        Err(VfsError::TooManyOpen) => {
            vm.collect();
            for (fd, owner) in root.owners() {
                let f = Value(owner);
                let alive = vm.mem.is_heap_head(owner)
                    && is_file(vm, f)
                    && vm.wv(f, 1).as_int() == (fd.0 as i32) << 1;
                if !alive {
                    let _ = root.close(fd);
                }
            }
            root.fs().open(path, mode)
        }
        r => r,
    };
    vm.vfs_ok(r)
}

/// The open file `v`: its descriptor and whether it is binary (`OSError(EINVAL)` for a
/// console stream: the callers that reach the filesystem ask [`target`] first).
fn file_arg<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<(Fd, bool)> {
    match target(vm, v)? {
        Target::File(fd, binary) => Ok((fd, binary)),
        // A console stream has no position.
        Target::Console(..) => vm.raise_vfs(VfsError::Invalid),
    }
}

/// What a file object stands for.
enum Target {
    /// A file on the filesystem: its descriptor, binary.
    File(Fd, bool),
    /// A console stream: its descriptor (0 stdin, 1 stdout, 2 stderr), binary.
    Console(u32, bool),
}

/// Is `f` (a file object) a console stream? Its path word is not a str.
fn is_console<F: FlashImage>(vm: &Vm<F>, f: Value) -> bool {
    vm.str_bytes(vm.wv(f, 2)).is_none()
}

/// The open file or console stream `v`.
fn target<F: FlashImage>(vm: &mut Vm<F>, v: Value) -> R<Target> {
    if !is_file(vm, v) {
        return vm.raise_msg("TypeError", "expected a file");
    }
    let state = vm.wv(v, 1).as_int();
    let binary = vm.kind(v) == Some(FILE_IO);
    if is_console(vm, v) {
        return Ok(Target::Console((state >> 1) as u32, binary));
    }
    if state & CLOSED != 0 {
        return vm.raise_msg("ValueError", "I/O operation on closed file");
    }
    Ok(Target::File(Fd((state >> 1) as u32), binary))
}

/// Lays out the console streams in the statics (`sys`'s objects): `(stdin, stdout, stderr)`.
pub fn console_streams<F: FlashImage>(vm: &mut Vm<F>) -> [Value; 3] {
    [0, 1, 2].map(|fd| {
        let state = Value::small(fd << 1).0;
        let bin = vm.static_words(&[header(FILE_IO, 0), state, 0]);
        vm.static_words(&[header(TEXT_IO, 0), state, bin.0])
    })
}

/// Writes `text` to console stream `fd`: stdout to the VM's output, stderr to its error
/// output (or the output, when the host does not keep them apart).
fn console_write<F: FlashImage>(vm: &mut Vm<F>, fd: u32, text: &str) {
    match (&mut vm.err, fd) {
        (Some(err), 2) => err.push_str(text),
        _ => vm.out.push_str(text),
    }
}

/// Writes `text` to stream `f` as `print(..., file=f)` does: a console stream directly,
/// anything else through its `write` method (a file, a `StringIO`, an object with one).
pub fn stream_write<F: FlashImage>(vm: &mut Vm<F>, f: Value, text: &str) -> R<()> {
    if is_file(vm, f) && is_console(vm, f) {
        let fd = (vm.wv(f, 1).as_int() >> 1) as u32;
        console_write(vm, fd, text);
        return Ok(());
    }
    if f.0 == vm.st.none {
        return vm.raise_msg("OSError", "stream operation not supported");
    }
    let wq = vm.q("write");
    let (m, s) = vm.load_method(f, wq)?;
    let t = vm.new_str(text.as_bytes())?;
    if s.is_null() {
        vm.call(m, &[t], &[])?;
    } else {
        vm.call(m, &[s, t], &[])?;
    }
    Ok(())
}

fn print<F: FlashImage>(vm: &mut Vm<F>, v: Value, s: &mut String, _d: u32, _k: PrintKind) -> R<()> {
    let name = if vm.kind(v) == Some(FILE_IO) {
        "FileIO"
    } else {
        "TextIOWrapper"
    };
    if is_console(vm, v) {
        let _ = write!(s, "<io.{name} {}>", vm.wv(v, 1).as_int() >> 1);
    } else {
        let _ = write!(s, "<io.{name} {:x}>", v.0);
    }
    Ok(())
}

/// `sys.stdout.buffer`: a text console stream's binary counterpart.
fn attr<F: FlashImage>(vm: &mut Vm<F>, f: Value, name: Value, op: AttrOp) -> R<Attr> {
    let buf = vm.wv(f, 2);
    if matches!(op, AttrOp::Load | AttrOp::Method)
        && vm.kind(f) == Some(TEXT_IO)
        && vm.kind(buf) == Some(FILE_IO)
        && vm.is_name(name, "buffer")
    {
        return Ok(Attr::Found(buf));
    }
    Ok(Attr::Default)
}

/// Up to `want` bytes (all of the rest when `None`).
fn read_bytes<F: FlashImage>(vm: &mut Vm<F>, fd: Fd, want: Option<usize>) -> R<Vec<u8>> {
    let root = vm.fs_root()?;
    let mut out = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        let room = want.map_or(chunk.len(), |w| (w - out.len()).min(chunk.len()));
        if room == 0 {
            break;
        }
        let r = root.fs().read(fd, &mut chunk[..room]);
        match vm.vfs_ok(r)? {
            0 => break,
            n => out.extend_from_slice(&chunk[..n.min(room)]),
        }
    }
    Ok(out)
}

/// One line, its `\n` included (empty at the end of the file).
fn read_line<F: FlashImage>(vm: &mut Vm<F>, fd: Fd) -> R<Vec<u8>> {
    let root = vm.fs_root()?;
    let mut line = Vec::new();
    let mut c = [0u8; 1];
    loop {
        let r = root.fs().read(fd, &mut c);
        if vm.vfs_ok(r)? == 0 {
            break;
        }
        line.push(c[0]);
        if c[0] == b'\n' {
            break;
        }
    }
    Ok(line)
}

fn text_or_bytes<F: FlashImage>(vm: &mut Vm<F>, b: &[u8], binary: bool) -> R<Value> {
    if binary {
        vm.new_str_obj(Kind::BYTES, b)
    } else {
        vm.new_str(b)
    }
}

/// `f.read([n])`: `n` bytes (all of the rest when absent, `None` or negative).
fn read<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (fd, binary) = match target(vm, arg(args, 0))? {
        Target::File(fd, binary) => (fd, binary),
        Target::Console(_, binary) => return text_or_bytes(vm, b"", binary),
    };
    let n = arg(args, 1);
    let want = if n.is_null() || n.0 == vm.st.none {
        None
    } else {
        match vm.as_intlike(n) {
            Some(k) if k < 0 => None,
            Some(k) => Some(k as usize),
            None => return vm.raise_msg("TypeError", "read size must be an int"),
        }
    };
    let b = read_bytes(vm, fd, want)?;
    text_or_bytes(vm, &b, binary)
}

/// `f.readinto(buf[, n])`: up to `len(buf)` (or `n`) bytes into a writable buffer (a
/// bytearray, a memoryview of one…); how many were read, 0 at the end.
fn readinto<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = target(vm, arg(args, 0))?;
    let Some(b) = vm.buffer(arg(args, 1)).filter(|b| b.writable) else {
        return vm.raise_msg("TypeError", "object with buffer protocol required");
    };
    let mut room = b.len as usize;
    if let Some(&n) = args.get(2) {
        room = room.min(vm.int_arg(n)?.max(0) as usize);
    }
    let Target::File(fd, _) = t else {
        return Ok(Value::small(0));
    };
    let data = read_bytes(vm, fd, Some(room))?;
    vm.mem
        .write_bytes(b.addr, &data)
        .or_else(|e| vm.raise_mem(e))?;
    Ok(Value::small(data.len() as i32))
}

/// `f.readline()`.
fn readline<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (fd, binary) = match target(vm, arg(args, 0))? {
        Target::File(fd, binary) => (fd, binary),
        Target::Console(_, binary) => return text_or_bytes(vm, b"", binary),
    };
    let line = read_line(vm, fd)?;
    text_or_bytes(vm, &line, binary)
}

/// `for line in f`.
fn getiter<F: FlashImage>(vm: &mut Vm<F>, f: Value) -> R<Value> {
    target(vm, f)?;
    Ok(f)
}

fn iternext<F: FlashImage>(vm: &mut Vm<F>, f: Value) -> R<Option<Value>> {
    let (fd, binary) = match target(vm, f)? {
        Target::File(fd, binary) => (fd, binary),
        Target::Console(..) => return Ok(None),
    };
    let line = read_line(vm, fd)?;
    if line.is_empty() {
        return Ok(None);
    }
    text_or_bytes(vm, &line, binary).map(Some)
}

/// `f.write(data)`: `str` or `bytes`; returns the bytes written.
fn write<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let t = target(vm, arg(args, 0))?;
    let data = arg(args, 1);
    if let Target::Console(fd, _) = t {
        // As MicroPython's stdio: anything with the buffer protocol.
        let bytes = crate::types::buffer::bytes_arg(vm, data)?;
        console_write(vm, fd, &String::from_utf8_lossy(&bytes));
        return Ok(Value::small(bytes.len() as i32));
    }
    let Target::File(fd, _) = t else {
        return Ok(vm.none());
    };
    let bytes = match vm.kind(data) {
        Some(Kind::BYTES) => vm.str_obj_bytes(data).map(<[u8]>::to_vec),
        _ => vm.str_bytes(data).map(<[u8]>::to_vec),
    };
    let Some(bytes) = bytes else {
        return vm.raise_msg("TypeError", "write() needs str or bytes");
    };
    let root = vm.fs_root()?;
    let r = root.fs().write(fd, &bytes);
    vm.vfs_ok(r)?;
    Ok(Value::small(bytes.len() as i32))
}

/// `f.seek(offset, whence=0)`: the new position.
fn seek<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (fd, _) = file_arg(vm, arg(args, 0))?;
    let off = args.get(1).and_then(|v| vm.as_intlike(*v)).unwrap_or(0);
    let whence = args.get(2).and_then(|v| vm.as_intlike(*v)).unwrap_or(0);
    let pos = match (whence, i32::try_from(off)) {
        (0, Ok(o)) if o >= 0 => SeekFrom::Start(o as u32),
        (1, Ok(o)) => SeekFrom::Current(o),
        (2, Ok(o)) => SeekFrom::End(o),
        _ => return vm.raise_vfs(VfsError::Invalid),
    };
    let root = vm.fs_root()?;
    let r = root.fs().seek(fd, pos);
    let at = vm.vfs_ok(r)?;
    vm.int_val(at.into())
}

/// `f.tell()`.
fn tell<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let (fd, _) = file_arg(vm, arg(args, 0))?;
    let root = vm.fs_root()?;
    let r = root.fs().seek(fd, SeekFrom::Current(0));
    let at = vm.vfs_ok(r)?;
    vm.int_val(at.into())
}

/// `f.flush()`.
fn flush<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let Target::File(fd, _) = target(vm, arg(args, 0))? else {
        return Ok(vm.none());
    };
    let root = vm.fs_root()?;
    let r = root.fs().flush(fd);
    vm.vfs_ok(r)?;
    Ok(vm.none())
}

/// `with open(…) as f`.
fn enter<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let f = arg(args, 0);
    target(vm, f)?;
    Ok(f)
}

/// The end of `with`: closes the file.
fn exit<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    close(vm, &args[..args.len().min(1)], kw)
}

/// `f.close()`: a second close does nothing.
fn close<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let f = arg(args, 0);
    if !is_file(vm, f) {
        return vm.raise_msg("TypeError", "expected a file");
    }
    let state = vm.wv(f, 1).as_int();
    // A console stream stays open (and is a read-only static).
    if state & CLOSED == 0 && !is_console(vm, f) {
        vm.set_w(f, 1, Value::small(state | CLOSED).0)?;
        let root = vm.fs_root()?;
        let r = root.close(Fd((state >> 1) as u32));
        vm.vfs_ok(r)?;
    }
    Ok(vm.none())
}
