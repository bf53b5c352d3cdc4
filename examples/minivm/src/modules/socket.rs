//! `socket` (also `usocket`): this port has no network, so the module is a stub that fails
//! clearly where a network would be needed, as MicroPython's unix port does on a machine
//! without one, while what libraries do at import or set-up time works:
//!
//! - `socket(af=AF_INET, type=SOCK_STREAM, proto=0)` makes a socket; `setsockopt`,
//!   `setblocking`, `settimeout`, `bind`, `listen`, `close` succeed (and do nothing);
//!   `connect` raises `OSError: [Errno 113] EHOSTUNREACH`, `accept` `OSError: [Errno 11]
//!   EAGAIN` (no connection ever arrives), and the data methods (`send`, `sendall`, `sendto`,
//!   `recv`, `recvfrom`, `read`, `readinto`, `readline`, `write`) `OSError: [Errno 107]
//!   ENOTCONN`.
//! - `getaddrinfo(host, port, …)` answers a dotted IPv4 address (`[(AF_INET, SOCK_STREAM, 0,
//!   '', (host, port))]`) and raises `OSError: -2` (no such name) for any other host: there
//!   is no resolver.
//!
//! A socket is a native handle, `[hdr SOCKET|HANDLE][0][list]`: the freezer refuses it with
//! its path (its connection would not survive a reboot).

use crate::mem::FlashImage;
use crate::natives::arg;
use crate::obj::{Kind, Value};
use crate::slots::{Constant, Freeze, ModuleDef, Native, NativeModule, NativeType, TypeSlots};
use crate::types::handle::{self, new_handle};
use crate::vm::{R, Vm};

/// The `socket` module.
pub struct Socket;

impl<F: FlashImage> NativeModule<F> for Socket {
    const MODULE: ModuleDef<F> = ModuleDef {
        aliases: &["usocket"],
        extensible: true,
        functions: &[Native::new("getaddrinfo", getaddrinfo)],
        constants: &[
            Constant::Type("socket", Kind::HANDLE),
            Constant::Int("AF_INET", 2),
            Constant::Int("AF_INET6", 10),
            Constant::Int("SOCK_STREAM", 1),
            Constant::Int("SOCK_DGRAM", 2),
            Constant::Int("SOCK_RAW", 3),
            Constant::Int("SOL_SOCKET", 1),
            Constant::Int("SO_REUSEADDR", 2),
            Constant::Int("SO_BROADCAST", 6),
            Constant::Int("SO_KEEPALIVE", 9),
            Constant::Int("IPPROTO_TCP", 6),
            Constant::Int("IPPROTO_UDP", 17),
        ],
        ..ModuleDef::new("socket")
    };
}

/// The socket type (the kind of native handles).
pub struct SocketType;

impl<F: FlashImage> NativeType<F> for SocketType {
    const TYPE: TypeSlots<F> = TypeSlots {
        freeze: Freeze::Refuse("a socket (its connection does not survive a reboot)"),
        make_new: Some(make_new),
        builtin: false,
        methods: &[
            Native::new("setsockopt", ok),
            Native::new("setblocking", ok),
            Native::new("settimeout", ok),
            Native::new("bind", ok),
            Native::new("listen", ok),
            Native::new("close", ok),
            Native::new("connect", unreachable),
            Native::new("accept", would_block),
            Native::new("send", not_connected),
            Native::new("sendall", not_connected),
            Native::new("sendto", not_connected),
            Native::new("recv", not_connected),
            Native::new("recvfrom", not_connected),
            Native::new("read", not_connected),
            Native::new("readinto", not_connected),
            Native::new("readline", not_connected),
            Native::new("write", not_connected),
        ],
        ..TypeSlots::new(Kind::HANDLE, "socket")
    };
}

/// `socket(af=AF_INET, type=SOCK_STREAM, proto=0)`.
fn make_new<F: FlashImage>(vm: &mut Vm<F>, _c: Value, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 0, 4)?;
    for &a in args {
        vm.int_arg(a)?;
    }
    new_handle(vm, handle::SOCKET)
}

fn ok<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    Ok(vm.none())
}

/// `OSError(n)`, printed `[Errno n] NAME`.
fn os_error<F: FlashImage>(vm: &mut Vm<F>, n: i32) -> R<Value> {
    vm.raise_args("OSError", &[Value::small(n)])
}

fn unreachable<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    os_error(vm, 113)
}

fn would_block<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    os_error(vm, 11)
}

fn not_connected<F: FlashImage>(vm: &mut Vm<F>, _args: &[Value], _kw: &[Value]) -> R<Value> {
    os_error(vm, 107)
}

/// Is `s` a dotted IPv4 address (four numbers up to 255)?
fn is_ipv4(s: &[u8]) -> bool {
    let parts: alloc::vec::Vec<&[u8]> = s.split(|&b| b == b'.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.iter().all(u8::is_ascii_digit)
                && p.iter().fold(0u32, |n, &d| n * 10 + (d - b'0') as u32) <= 255
        })
}

/// `getaddrinfo(host, port, af=0, type=0, proto=0, flags=0)`.
fn getaddrinfo<F: FlashImage>(vm: &mut Vm<F>, args: &[Value], kw: &[Value]) -> R<Value> {
    vm.check_args(args, kw, 2, 6)?;
    let host = vm.str_arg(args[0])?;
    vm.int_arg(arg(args, 1))?;
    if !is_ipv4(&host) {
        return os_error(vm, -2);
    }
    let addr = vm.new_tuple(&[args[0], args[1]])?;
    let entry = vm.new_tuple(&[
        Value::small(2),
        Value::small(1),
        Value::small(0),
        Value::qstr(1),
        addr,
    ])?;
    vm.new_list(&[entry])
}
