//! `uio` (also `io`): `open` and the file types (`FileIO`, `TextIOWrapper`, see `types::file`);
//! stubs: `StringIO()` and `BytesIO()` make native stream handles (which cannot be frozen);
//! `IOBase` is `object`, for classes that derive from it.

use crate::mem::FlashImage;
use crate::obj::{Kind, Value};
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::types::file;
use crate::types::handle::{self, new_handle};
use crate::vm::{R, Vm};

/// The `uio` module.
pub struct Io;

impl<F: FlashImage> NativeModule<F> for Io {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["io"],
        functions: &[
            Native::new("StringIO", string_io),
            Native::new("BytesIO", bytes_io),
            Native::new("open", file::open),
        ],
        constants: &[
            Constant::Type("IOBase", Kind::INSTANCE),
            Constant::Type("FileIO", file::FILE_IO),
            Constant::Type("TextIOWrapper", file::TEXT_IO),
        ],
        ..ModuleDef::new("uio")
    };
}

fn string_io<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    new_handle(vm, handle::STRING_IO)
}

fn bytes_io<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    new_handle(vm, handle::BYTES_IO)
}
