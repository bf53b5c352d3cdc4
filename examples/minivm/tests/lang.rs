//! Language and runtime checks the MicroPython oracle cannot make (`tools/difftest` runs the
//! rest): modules only minivm has (`utimeq`), memory-safety on misuse of native methods, and
//! the firmware qstr table the name lookups rely on.

mod common;

use common::run;
use minivm::freeze::SimChip;
use minivm::slots::Constant;
use minivm::{RamFlash, Vm};

fn boot() -> Vm<SimChip> {
    common::boot(SimChip::erased(), None)
}

/// The error line of a console statement that must raise.
fn error(vm: &mut Vm<SimChip>, line: &str) -> String {
    let e = vm.exec_line(line).expect_err(line);
    vm.take_output();
    e
}

#[test]
fn utimeq_pop_needs_a_list_of_three() {
    let mut vm = boot();
    run(
        &mut vm,
        "import utimeq; q = utimeq.utimeq(4); q.push(5, 'cb', 'args')",
    );
    // As MicroPython: `TypeError` (no message) for anything but a list of at least 3 items,
    // and the entry stays queued.
    assert_eq!(error(&mut vm, "q.pop(5)"), "TypeError");
    assert_eq!(error(&mut vm, "q.pop((0, 0, 0))"), "TypeError");
    assert_eq!(error(&mut vm, "q.pop([0, 0])"), "TypeError");
    assert_eq!(run(&mut vm, "len(q)"), "1\n");
    assert_eq!(
        run(&mut vm, "r = [0, 0, 0]; q.pop(r); r"),
        "[5, 'cb', 'args']\n"
    );
    assert_eq!(error(&mut vm, "q.pop([0, 0, 0])"), "IndexError: empty heap");
}

#[test]
fn native_methods_on_the_wrong_object_raise_or_read_safely() {
    let mut vm = boot();
    // A deque method checks its object; a list method given a subclass instance works on
    // the instance's list (one whose list is not built yet is refused: `t_lang.py`).
    run(&mut vm, "from collections import deque");
    assert_eq!(
        error(&mut vm, "deque.append([], 1)"),
        "TypeError: argument should be a 'deque' not a 'list'"
    );
    run(&mut vm, "T = type('T', (list,), {})");
    assert_eq!(
        run(&mut vm, "t = T([3]); list.append(t, 4); len(t), t.pop(), t"),
        "(2, 4, [3])\n"
    );
}

/// The firmware names are each name once, in first-use order (the order the plain quadratic
/// dedupe gives: it fixes their ids), and every static and firmware name is found by its text
/// through the VM's bucket index.
#[test]
fn firmware_names_are_each_name_once_and_all_found() {
    let reg = Vm::<RamFlash>::builtins();
    let mut slow: Vec<&'static str> = Vec::new();
    let mut add = |n: &'static str| {
        if minivm::qstr::find_fixed(&slow, n.as_bytes()).is_none() {
            slow.push(n);
        }
    };
    for t in reg.types {
        add(t.name);
        t.methods.iter().for_each(|m| add(m.name));
        t.names.iter().for_each(|n| add(n));
    }
    reg.exceptions.iter().for_each(|&(n, _)| add(n));
    reg.exception_methods.iter().for_each(|m| add(m.name));
    for m in std::iter::once(&reg.builtins).chain(reg.modules.iter()) {
        add(m.name);
        m.aliases.iter().for_each(|n| add(n));
        m.functions.iter().for_each(|f| add(f.name));
        for c in m.constants {
            add(match *c {
                Constant::Int(k, _) | Constant::Str(k, _) | Constant::Type(k, _) => k,
            });
        }
        m.names.iter().for_each(|n| add(n));
    }
    reg.names.iter().for_each(|n| add(n));
    minivm::qstr::CORE_NAMES.iter().for_each(|n| add(n));
    let vm = Vm::new(RamFlash::erased(), 65536);
    assert_eq!(vm.fw, slow);
    for id in 1..vm.first_dyn_qstr {
        let t = vm.qstr_bytes(id).to_vec();
        assert_eq!(
            vm.find_qstr(&t),
            Some(id),
            "{}",
            String::from_utf8_lossy(&t)
        );
    }
    assert_eq!(vm.find_qstr(b"no such name"), None);
}
