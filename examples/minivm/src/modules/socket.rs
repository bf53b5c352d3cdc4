//! `usocket` (also `socket`): stubs. `socket()` makes a native handle (which cannot be
//! frozen: the freezer refuses it with its path); `getaddrinfo` answers one IPv4 stream entry.

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::Value;
use crate::slots::{Constant, ModuleDef, Native, NativeModule};
use crate::types::handle::{self, new_handle};
use crate::vm::{R, Vm};

/// The `usocket` module.
pub struct Socket;

impl<F: FlashImage> NativeModule<F> for Socket {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["usocket"],
        extensible: true,
        functions: &[
            Native::new("socket", socket),
            Native::new("getaddrinfo", getaddrinfo),
        ],
        constants: &[
            Constant::Int("AF_INET", 2),
            Constant::Int("SOCK_STREAM", 1),
            Constant::Int("SOCK_DGRAM", 2),
            Constant::Int("SOL_SOCKET", 1),
            Constant::Int("SO_REUSEADDR", 4),
        ],
        ..ModuleDef::new("socket")
    };
}

fn socket<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    new_handle(vm, handle::SOCKET)
}

/// `getaddrinfo(host, port)`: `[(AF_INET, SOCK_STREAM, 0, '', (host, port))]`.
fn getaddrinfo<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], _kw: &[Value]) -> R<Value> {
    let addr = vm.new_tuple(&[arg(args, 0), arg(args, 1)])?;
    let entry = vm.new_tuple(&[
        Value::small(2),
        Value::small(1),
        Value::small(0),
        Value::qstr(1),
        addr,
    ])?;
    vm.new_list(&[entry])
}
