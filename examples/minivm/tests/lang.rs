//! Language and runtime checks the MicroPython oracle cannot make (`tools/difftest` runs the
//! rest): modules only minivm has (`utimeq`), and memory-safety on misuse of native methods.

mod common;

use common::run;
use minivm::Vm;
use minivm::freeze::SimChip;

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
