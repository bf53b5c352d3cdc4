//! `uos` (also `os`): files and directories on the VM's filesystem ([`crate::vfs`]), as on
//! MicroPython's littlefs ports.
//!
//! `listdir([path])`, `ilistdir([path])` (tuples `(name, type, 0, size)`), `stat(path)` (a
//! 10-tuple: `st_mode` first, `st_size` at index 6), `statvfs(path)` (a 10-tuple: `f_bsize,
//! f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_favail, f_flag, f_namemax`),
//! `remove`, `rmdir`, `mkdir`, `rename(old, new)`, `getcwd()`, `chdir(path)`, `sep`, and
//! `uname()` (a static attribute tuple: `sysname` and `nodename` `'minivm'`, `release` the
//! MicroPython release minivm follows, `version`, `machine`).
//! Paths are resolved against the current directory; every failure is an `OSError` with the
//! [`VfsError`]'s errno, `ENODEV` when no filesystem is mounted. `open()` and the
//! file objects are in `types::file`.

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::Value;
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::types::namedtuple;
use crate::vfs::{Root, VfsError};
use crate::vm::{R, Vm};

/// The `uos` module.
pub struct Os;

impl<F: FlashImage> NativeModule<F> for Os {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uos"],
        extensible: true,
        functions: &[
            Native::new("listdir", listdir),
            Native::new("ilistdir", ilistdir),
            Native::new("stat", stat),
            Native::new("statvfs", statvfs),
            Native::new("remove", remove),
            Native::new("rmdir", rmdir),
            Native::new("mkdir", mkdir),
            Native::new("rename", rename),
            Native::new("getcwd", getcwd),
            Native::new("chdir", chdir),
            Native::args("uname", uname, 0, 0),
        ],
        objects: Some(objects),
        names: &["_uname", "sysname", "nodename", "release", "machine"],
        constants: &[Constant::Str("sep", "/")],
        ..ModuleDef::new("os")
    };
}

/// The static objects: `uname()`'s answer.
fn objects<F: FlashImage>(vm: &mut Vm<F>) -> Vec<(&'static str, Value)> {
    let [a, b, c] = crate::modules::sys::VERSION;
    let release = alloc::format!("{a}.{b}.{c}");
    let version = alloc::format!(
        "v{release} (minivm, flashfreeze {})",
        env!("CARGO_PKG_VERSION")
    );
    let vals = [
        vm.static_str("minivm"),
        vm.static_str("minivm"),
        vm.static_str(&release),
        vm.static_str(&version),
        vm.static_str("minivm with flashfreeze"),
    ];
    let t = namedtuple::static_attrtuple(
        vm,
        &["sysname", "nodename", "release", "version", "machine"],
        &vals,
    );
    alloc::vec![("_uname", t)]
}

/// `uname()`.
fn uname<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let q = vm.q("_uname");
    let found = vm
        .builtin_named("os")
        .and_then(|m| vm.dict_get_q(vm.wv(m, 2), q));
    match found {
        Some(v) => Ok(v),
        None => vm.raise_msg("RuntimeError", "os.uname is missing from the statics"),
    }
}

/// A size as a small int (saturated: a 31-bit int cannot hold more).
fn size(n: u32) -> Value {
    Value::small(n.min(i32::MAX as u32 >> 1) as i32)
}

/// The `(name, type, inode, size)` entries of directory argument `i` (the current one if
/// absent).
fn entries<F: FlashImage>(vm: &mut Vm<F>, args: &[Value]) -> R<Vec<Value>> {
    let root = vm.fs_root()?;
    let path = vm.fs_path(&root, arg(args, 0), "")?;
    let r = root.fs().list(&path);
    let list = vm.vfs_ok(r)?;
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        let name = vm.new_str(e.name.as_bytes())?;
        let mode = Value::small(e.stat.mode() as i32);
        out.push(vm.new_tuple(&[name, mode, Value::small(0), size(e.stat.size)])?);
    }
    Ok(out)
}

/// `listdir([path])`: the names.
fn listdir<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let entries = entries(vm, args)?;
    let names: Vec<Value> = entries.iter().map(|t| vm.wv(*t, 1)).collect();
    vm.new_list(&names)
}

/// `ilistdir([path])`: an iterator of entries.
fn ilistdir<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let entries = entries(vm, args)?;
    let l = vm.new_list(&entries)?;
    vm.get_iter(l)
}

/// `stat(path)`.
fn stat<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 1, "stat")?;
    let root = vm.fs_root()?;
    let path = vm.fs_path(&root, arg(args, 0), "")?;
    let r = root.fs().stat(&path);
    let st = vm.vfs_ok(r)?;
    let z = Value::small(0);
    let mode = Value::small(st.mode() as i32);
    vm.new_tuple(&[mode, z, z, z, z, z, size(st.size), z, z, z])
}

/// `statvfs(path)`: the filesystem's sizes (the path only has to be given).
fn statvfs<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let root = vm.fs_root()?;
    let r = root.fs().statvfs();
    let s = vm.vfs_ok(r)?;
    let z = Value::small(0);
    vm.new_tuple(&[
        size(s.block_size),
        size(s.block_size),
        size(s.blocks),
        size(s.free),
        size(s.free),
        z,
        z,
        z,
        z,
        size(s.name_max),
    ])
}

/// `name(path)`: runs `op` on the path.
fn on_path<F: FlashImage>(
    vm: &mut Vm<F>,
    args: &[Value],
    name: &str,
    op: fn(&Root, &str) -> Result<(), VfsError>,
) -> R<Value> {
    vm.need(args, 1, name)?;
    let root = vm.fs_root()?;
    let path = vm.fs_path(&root, arg(args, 0), "")?;
    let r = op(&root, &path);
    vm.vfs_ok(r)?;
    Ok(vm.none())
}

/// `remove(path)`: a file.
fn remove<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    on_path(vm, args, "remove", |r, p| r.fs().remove(p))
}

/// `rmdir(path)`: an empty directory.
fn rmdir<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    on_path(vm, args, "rmdir", |r, p| r.fs().rmdir(p))
}

/// `mkdir(path)`.
fn mkdir<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    on_path(vm, args, "mkdir", |r, p| r.fs().mkdir(p))
}

/// `chdir(path)`.
fn chdir<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    on_path(vm, args, "chdir", Root::chdir)
}

/// `rename(old, new)`.
fn rename<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    vm.need(args, 2, "rename")?;
    let root = vm.fs_root()?;
    let from = vm.fs_path(&root, arg(args, 0), "")?;
    let to = vm.fs_path(&root, arg(args, 1), "")?;
    let r = root.fs().rename(&from, &to);
    vm.vfs_ok(r)?;
    Ok(vm.none())
}

/// `getcwd()`.
fn getcwd<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    let root = vm.fs_root()?;
    let c = root.cwd();
    vm.new_str(c.as_bytes())
}
