//! The registry: every builtin type and module of the firmware, in one list each.
//!
//! This is the only file that names all of `types/` and `modules/`; the core gets the table
//! as a [`Builtins`] from [`Vm::new`] and reaches a type only through its slots. The order of
//! each list is the order of the firmware statics (see `statics`), so appending keeps every
//! earlier static at its address; any change changes the firmware id.
//!
//! Adding a type: write `types/<name>.rs` declaring its [`crate::slots::TypeSlots`] with a
//! kind id no other type uses, then add one line to `types` below. Adding a module: write
//! `modules/<name>.rs` declaring its [`crate::slots::ModuleDef`], then add one line to
//! `modules` below. (Two types with the same kind fail the build.)

use core::marker::PhantomData;

use crate::mem::FlashImage;
use crate::slots::{Builtins, ModuleDef, NativeModule, NativeType, TypeSlots};
use crate::vm::Vm;
use crate::{modules, types};

/// The slot table of type `$t` (a `NativeType`) for flash type `F`.
macro_rules! ty {
    ($t:ty) => {
        &<$t as NativeType<F>>::TYPE
    };
}

/// The definition of module `$m` (a `NativeModule`) for flash type `F`.
macro_rules! module {
    ($m:ty) => {
        &<$m as NativeModule<F>>::MODULE
    };
}

/// The firmware's builtins for flash type `F`.
pub struct Registry<F>(PhantomData<F>);

impl<F: FlashImage> Registry<F> {
    /// The native types, in statics order.
    const TYPES: &'static [&'static TypeSlots<F>] = &[
        ty!(types::none::NoneType),
        ty!(types::bool::Bool),
        ty!(types::ellipsis::Ellipsis),
        ty!(types::str::Str),
        ty!(types::bytes::Bytes),
        ty!(types::tuple::Tuple),
        ty!(types::list::List),
        ty!(types::dict::Dict),
        ty!(types::set::Set),
        ty!(types::func::Func),
        ty!(types::closure::Closure),
        ty!(types::code::Code),
        ty!(types::context::Context),
        ty!(types::module::Module),
        ty!(types::class::Class),
        ty!(types::instance::Instance),
        ty!(types::cell::Cell),
        ty!(types::bound_method::BoundMethod),
        ty!(types::generator::Generator),
        ty!(types::iter::Iter),
        ty!(types::range::Range),
        ty!(types::slice::Slice),
        ty!(types::builtin::Builtin),
        ty!(types::array::Array),
        ty!(types::const_array::ConstArray),
        ty!(types::qstr_pool::QstrPool),
        ty!(types::staticmethod::StaticMethod),
        ty!(types::classmethod::ClassMethod),
        ty!(types::property::Property),
        ty!(modules::socket::SocketType),
        ty!(types::int::Int),
        ty!(modules::timeq::Utimeq),
        ty!(modules::select::Poll),
        ty!(types::file::FileIo),
        ty!(types::file::TextIo),
        ty!(modules::collections::OrderedDict),
        ty!(modules::collections::Deque),
        ty!(modules::collections::DequeIter),
        ty!(types::buffer::Store),
        ty!(types::bytearray::ByteArray),
        ty!(types::memoryview::MemoryView),
        ty!(modules::array::ArrayType),
        ty!(types::buffer::BufIter),
        ty!(types::float::Float),
        ty!(types::bigint::BigInt),
        ty!(types::stringio::StringIo),
        ty!(types::stringio::BytesIo),
        ty!(modules::re::Regex),
        ty!(modules::re::Match),
        ty!(modules::hashlib::Sha256),
        ty!(modules::hashlib::Sha1),
    ];

    /// The builtin modules other than `builtins`, in statics order.
    const MODULES: &'static [&'static ModuleDef<F>] = &[
        module!(modules::gc::Gc),
        module!(modules::micropython::Micropython),
        module!(modules::sys::Sys),
        module!(modules::freeze::Freeze),
        module!(modules::time::Time),
        module!(modules::collections::Collections),
        module!(modules::errno::Errno),
        module!(modules::select::Select),
        module!(modules::socket::Socket),
        module!(modules::io::Io),
        module!(modules::timeq::Timeq),
        module!(modules::os::Os),
        module!(modules::array::Array),
        module!(modules::re::Re),
        module!(modules::binascii::Binascii),
        module!(modules::hashlib::Hashlib),
        module!(modules::heapq::Heapq),
        module!(modules::random::Random),
        module!(modules::ustruct::Struct),
        module!(modules::json::Json),
        module!(modules::math::Math),
    ];

    /// Names common library code uses (asyncio's among them), interned at build time.
    const NAMES: &'static [&'static str] = &[
        "__file__",
        "__version__",
        "__aiter__",
        "__anext__",
        "__aenter__",
        "__aexit__",
        "__await__",
        "CancelledError",
        "TimeoutError",
        "sysname",
    ];

    /// The table the VM is built with.
    pub const BUILTINS: &'static Builtins<F> = &Builtins::new(
        Self::TYPES,
        types::exception::EXCEPTIONS,
        types::exception::Methods::<F>::BASE,
        module!(modules::builtins::Builtins),
        Self::MODULES,
        Self::NAMES,
    );
}

impl<F: FlashImage> Vm<F> {
    /// A fresh VM with a heap of `heap_size` bytes, the given flash image and the firmware's
    /// builtins.
    pub fn new(flash: F, heap_size: u32) -> Vm<F> {
        Vm::with_builtins(flash, heap_size, Self::builtins())
    }

    /// The firmware's builtin types and modules.
    pub fn builtins() -> &'static Builtins<F> {
        Registry::<F>::BUILTINS
    }
}
