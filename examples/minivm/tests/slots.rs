//! The type slots as the runtime sees them: every value's type is found through the
//! registry's table, and the buffer protocol gives the bytes behind a str or bytes object.

mod common;

use common::run;
use minivm::memmap::HEAP_DEFAULT;
use minivm::obj::Kind;
use minivm::{RamFlash, Value, Vm};

fn vm() -> Vm<RamFlash> {
    Vm::new(RamFlash::erased(), HEAP_DEFAULT)
}

/// The value the console's last expression statement binds to `name`.
fn value_of(vm: &mut Vm<RamFlash>, name: &str) -> Value {
    let q = vm.intern(name.as_bytes()).unwrap();
    vm.dict_get_q(vm.main_globals, q).expect("bound")
}

#[test]
fn every_value_reaches_its_type_through_the_registry() {
    let mut vm = vm();
    run(
        &mut vm,
        "import utimeq; import uselect; a = 5; b = 'short'; c = [1]; d = None; e = utimeq.utimeq(2); f = uselect.poll()",
    );
    for (name, ty, kind) in [
        ("a", "int", Kind::INT),
        ("b", "str", Kind::STR),
        ("c", "list", Kind::LIST),
        ("d", "NoneType", Kind::NONE),
        ("e", "utimeq", minivm::modules::timeq::UTIMEQ),
        ("f", "poll", minivm::modules::select::POLL),
    ] {
        let v = value_of(&mut vm, name);
        let t = vm.slots(v).expect("a registered type");
        assert_eq!((t.name, t.kind), (ty, kind), "{name}");
        // The type object Python sees has the same name.
        assert_eq!(vm.class_name(vm.type_of(v)), ty, "{name}");
    }
    assert!(vm.slots(Value::NULL).is_none());
    // A word that is no registered kind's header is no object.
    assert!(vm.header_kind(0x3f).is_none());
}

#[test]
fn str_and_bytes_objects_lend_their_bytes_through_the_buffer_slot() {
    let mut vm = vm();
    run(
        &mut vm,
        "b = bytes([0, 1]) + 'payload'.encode(); s = 'a str too long to be a qstr'; l = [1, 2]",
    );
    for (name, want) in [
        ("b", &b"\x00\x01payload"[..]),
        ("s", &b"a str too long to be a qstr"[..]),
    ] {
        let v = value_of(&mut vm, name);
        let buf = vm.buffer(v).expect("a buffer");
        assert!(!buf.writable, "{name}");
        assert_eq!(vm.mem.bytes(buf.addr, buf.len), Some(want), "{name}");
    }
    let l = value_of(&mut vm, "l");
    assert_eq!(vm.buffer(l), None);
    assert_eq!(vm.buffer(Value::small(3)), None);
}
