//! `uerrno` (also `errno`): the error numbers `OSError` carries, with Linux's values as
//! MicroPython's ports use them.

use crate::mem::FlashImage;
use crate::slots::{Constant, ModuleDef, NativeModule};

/// The `uerrno` module.
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
        ..ModuleDef::new("errno")
    };
}
