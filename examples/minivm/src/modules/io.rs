//! `io` (also `uio`): `open` and the file types (`FileIO`, `TextIOWrapper`, see `types::file`),
//! the in-memory streams `StringIO` and `BytesIO` (`types::stringio`), and `IOBase`, which is
//! `object` here, for classes that derive from it.

use crate::mem::FlashImage;
use crate::obj::Kind;
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::types::file;
use crate::types::stringio;

/// The `io` module.
pub struct Io;

impl<F: FlashImage> NativeModule<F> for Io {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["uio"],
        extensible: true,
        functions: &[Native::new("open", file::open)],
        constants: &[
            Constant::Type("StringIO", stringio::STRING_IO),
            Constant::Type("BytesIO", stringio::BYTES_IO),
            Constant::Type("IOBase", Kind::INSTANCE),
            Constant::Type("FileIO", file::FILE_IO),
            Constant::Type("TextIOWrapper", file::TEXT_IO),
            Constant::Int("SEEK_SET", 0),
            Constant::Int("SEEK_CUR", 1),
            Constant::Int("SEEK_END", 2),
        ],
        ..ModuleDef::new("io")
    };
}
