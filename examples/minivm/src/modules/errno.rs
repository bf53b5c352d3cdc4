//! `errno` (also `uerrno`): the error numbers `OSError` carries, with Linux's values as
//! MicroPython's ports use them: MicroPython's whole list, and `errorcode` (number → name, a
//! static dict).

use alloc::vec::Vec;

use crate::mem::FlashImage;
use crate::obj::Value;
use crate::slots::{Constant, ModuleDef, NativeModule};
use crate::vm::Vm;

/// The `errno` module.
pub struct Errno;

impl<F: FlashImage> NativeModule<F> for Errno {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uerrno"],
        extensible: true,
        constants: &[
            Constant::Int("EPERM", 1),
            Constant::Int("ENOENT", 2),
            Constant::Int("EIO", 5),
            Constant::Int("EBADF", 9),
            Constant::Int("EAGAIN", 11),
            Constant::Int("ENOMEM", 12),
            Constant::Int("EACCES", 13),
            Constant::Int("EEXIST", 17),
            Constant::Int("ENODEV", 19),
            Constant::Int("EISDIR", 21),
            Constant::Int("EINVAL", 22),
            Constant::Int("EOPNOTSUPP", 95),
            Constant::Int("EADDRINUSE", 98),
            Constant::Int("ECONNABORTED", 103),
            Constant::Int("ECONNRESET", 104),
            Constant::Int("ENOBUFS", 105),
            Constant::Int("ENOTCONN", 107),
            Constant::Int("ETIMEDOUT", 110),
            Constant::Int("ECONNREFUSED", 111),
            Constant::Int("EHOSTUNREACH", 113),
            Constant::Int("EALREADY", 114),
            Constant::Int("EINPROGRESS", 115),
        ],
        objects: Some(objects),
        names: &["errorcode"],
        ..ModuleDef::new("errno")
    };
}

/// `errorcode`: each constant's number to its name.
fn objects<F: FlashImage>(vm: &mut Vm<F>) -> Vec<(&'static str, Value)> {
    let mut entries = Vec::new();
    for c in <Errno as NativeModule<F>>::MODULE.constants {
        if let Constant::Int(name, n) = *c {
            let q = vm.q(name);
            entries.push((Value::small(n), q));
        }
    }
    alloc::vec![("errorcode", vm.static_dict(&entries))]
}
