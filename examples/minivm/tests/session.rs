//! The console session on the real VM, driven with the byte sequences `mpremote` 1.29 sends
//! (read from its transport code): taking over the board (Ctrl-C, Ctrl-A, soft reboot), raw
//! paste with flow control, `fs ls/cp/cat/rm/mkdir`-style commands on a host directory, Ctrl-C
//! interrupting bytecode, and the friendly prompt. The real client runs against `minivm --pty`
//! in `examples/pico/run-e2e.sh`.

use std::collections::VecDeque;
use std::path::PathBuf;

use minivm::Vm;
use minivm::freeze::SimChip;
use minivm::memmap::HEAP_DEFAULT;
use minivm::repl::console::{Console, PASTE_WINDOW};
use minivm::session::{Link, Session, Step, close_files};
use minivm::vfs::{HostDir, Root};

/// A link fed from a queue (`read` and `try_read` both take from it) that records output;
/// `hold` makes that many `try_read`s see nothing yet (a byte arriving later).
#[derive(Default)]
struct Script {
    input: VecDeque<u8>,
    output: Vec<u8>,
    hold: usize,
}

impl Link for Script {
    fn read(&mut self) -> Option<u8> {
        self.input.pop_front()
    }
    fn try_read(&mut self) -> Option<u8> {
        if self.hold > 0 {
            self.hold -= 1;
            return None;
        }
        self.input.pop_front()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
}

struct Board {
    dir: PathBuf,
    vm: Option<Vm<SimChip>>,
    session: Session<Script>,
    reboots: usize,
}

impl Board {
    fn new(name: &str) -> Board {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("session-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        let mut b = Board {
            vm: None,
            session: Session::new(
                Script::default(),
                Console::new("minivm test board", 16 * 1024),
            ),
            dir,
            reboots: 0,
        };
        b.vm = Some(b.boot());
        b.session.ready();
        b.take();
        b
    }

    fn boot(&self) -> Vm<SimChip> {
        let mut vm = Vm::new(SimChip::erased(), HEAP_DEFAULT);
        let root = Root::new(Box::new(HostDir::new(&self.dir, 256 * 1024).unwrap()));
        vm.sources.push(Box::new(minivm::sources::Bundled));
        minivm::vfs::mount(&mut vm, root, &["", "/lib"]);
        vm
    }

    /// Sends `bytes` and runs until the input is used up; returns what the board sent.
    fn send(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.session
            .with_link(|l| l.input.extend(bytes.iter().copied()));
        loop {
            let vm = self.vm.as_mut().unwrap();
            match self.session.step(vm) {
                None => {}
                Some(Step::Closed) => break,
                Some(Step::Reboot) => {
                    close_files(self.vm.as_ref().unwrap());
                    self.vm = None;
                    self.session.rebooted();
                    self.vm = Some(self.boot());
                    self.reboots += 1;
                    self.session.ready();
                }
                Some(Step::Command(c)) => {
                    use std::fmt::Write;
                    let _ = writeln!(self.session.out(), "board command {c}");
                    self.session.prompt();
                }
            }
        }
        self.take()
    }

    fn take(&mut self) -> Vec<u8> {
        self.session.with_link(|l| std::mem::take(&mut l.output))
    }

    /// What mpremote's `enter_raw_repl(soft_reset=True)` sends and waits for.
    fn enter_raw(&mut self) {
        // Whatever the board says to the interrupt is flushed unread.
        self.send(b"\r\x03");
        let out = self.send(b"\r\x01");
        assert!(out.ends_with(b"raw REPL; CTRL-B to exit\r\n>"), "{out:?}");
        let out = self.send(b"\x04");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>"
        );
    }

    /// mpremote's `exec` over raw paste: (output, error output).
    fn exec(&mut self, cmd: &str) -> (String, String) {
        let out = self.send(b"\x05A\x01");
        let mut want = b"R\x01".to_vec();
        want.extend_from_slice(&PASTE_WINDOW.to_le_bytes());
        want.push(0x01);
        assert_eq!(out, want, "raw-paste header");
        // The client may send two windows ahead; every further window needs a \x01.
        let mut granted = 2 * PASTE_WINDOW as usize;
        let mut sent = 0;
        let bytes = cmd.as_bytes();
        while sent < bytes.len() {
            let n = (bytes.len() - sent).min(granted - sent);
            assert!(n > 0, "the board stopped granting windows");
            let reply = self.send(&bytes[sent..sent + n]);
            sent += n;
            for &b in &reply {
                assert_eq!(b, 0x01, "only window grants while receiving: {reply:?}");
                granted += PASTE_WINDOW as usize;
            }
        }
        let out = self.send(b"\x04");
        let text = String::from_utf8(out).unwrap();
        let body = text.strip_prefix('\x04').expect("end of data acknowledged");
        let body = body.strip_suffix('>').expect("prompt after the command");
        let parts: Vec<&str> = body.split('\x04').collect();
        assert_eq!(parts.len(), 3, "{body:?}");
        assert_eq!(parts[2], "");
        (parts[0].to_string(), parts[1].to_string())
    }

    fn ok(&mut self, cmd: &str) -> String {
        let (out, err) = self.exec(cmd);
        assert_eq!(err, "", "{cmd}");
        out
    }
}

#[test]
fn mpremote_takes_over_the_console_and_runs_filesystem_commands() {
    let mut b = Board::new("fs");
    b.enter_raw();
    assert_eq!(b.reboots, 1);
    // fs mkdir, fs cp (a 1000-byte file in 256-byte chunks, as bytes reprs), fs ls, fs cat, rm.
    b.ok("import os\nos.mkdir('lib')");
    b.ok("f=open('lib/data.bin','wb')\nw=f.write");
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 256) as u8).collect();
    for chunk in data.chunks(256) {
        // Python's repr of bytes, as mpremote builds the command.
        let mut lit = String::from("b'");
        for &c in chunk {
            match c {
                b'\\' => lit.push_str("\\\\"),
                b'\'' => lit.push_str("\\'"),
                b'\t' => lit.push_str("\\t"),
                b'\n' => lit.push_str("\\n"),
                b'\r' => lit.push_str("\\r"),
                0x20..=0x7e => lit.push(c as char),
                _ => lit.push_str(&format!("\\x{c:02x}")),
            }
        }
        lit.push('\'');
        b.ok(&format!("w({lit})"));
    }
    b.ok("f.close()");
    assert_eq!(std::fs::read(b.dir.join("lib/data.bin")).unwrap(), data);
    let ls = b.ok("import os\nfor f in os.ilistdir('lib'):\n print(repr(f), end=',')");
    assert_eq!(ls, "('data.bin', 32768, 0, 1000),");
    let stat = b.ok("print(repr(tuple(os.stat('lib'))))");
    assert_eq!(stat, "(16384, 0, 0, 0, 0, 0, 0, 0, 0, 0)\r\n");
    std::fs::write(b.dir.join("notes.txt"), "line 1\nline 2\n").unwrap();
    let cat = b.ok(
        "with open('notes.txt') as f:\n while 1:\n  b=f.read(256)\n  if not b:break\n  print(b,end='')",
    );
    assert_eq!(cat, "line 1\r\nline 2\r\n");
    // fs cp from the board: fs_readfile's open, then eval(r(256)) until empty.
    b.ok("f=open('lib/data.bin','rb')\nr=f.read");
    let first = b.ok("print(repr(r(256)))");
    assert!(first.starts_with("b'\\x00\\x07\\x0e"), "{first}");
    b.ok("f.close()");
    // A missing file: the OSError text mpremote turns into ENOENT.
    let (_, err) = b.exec("import os\nos.remove('nothere')");
    assert!(err.ends_with("OSError: [Errno 2] ENOENT\r\n"), "{err}");
    b.ok("import os\nos.remove('lib/data.bin')");
    assert!(!b.dir.join("lib/data.bin").exists());
    // mpremote's fs_hashfile (fs cp onto an existing file, mip): sha256 on the board, the file
    // read into a memoryview.
    b.ok("import hashlib\nh = hashlib.sha256()");
    b.ok("buf = memoryview(bytearray(4))\nwith open('notes.txt', 'rb') as f:\n while True:\n  n = f.readinto(buf)\n  if n == 0:\n   break\n  h.update(buf if n == 4 else buf[:n])\n");
    let digest = b.ok("print(repr(h.digest()))");
    // sha256(b"line 1\nline 2\n"), as CPython's hashlib computes it.
    assert_eq!(
        digest,
        r"b'\x90`UHc\xa6+\x9d\xb5\xf7&!hveNV\x18\x96\x07\x1d.d\x80\xf2\x04\x8bp\xe0\xfd\xad\xb9'"
            .to_string()
            + "\r\n"
    );
    // Back to the friendly prompt, as mpremote leaves the board.
    let out = b.send(b"\r\x02");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "\r\nminivm test board\r\n>>> "
    );
}

#[test]
fn ctrl_c_interrupts_bytecode_and_the_console_goes_on() {
    let mut b = Board::new("intr");
    b.enter_raw();
    // The Ctrl-C is already waiting when the program starts: the first poll sees it.
    let out = b.send(b"import tests.spin\ntests.spin.forever()\x04\x03");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("OK\x04Traceback"), "{text}");
    assert!(text.ends_with("KeyboardInterrupt\r\n\x04>"), "{text}");
    let (out, _) = b.exec("print('still here')");
    assert_eq!(out, "still here\r\n");
    // Bytes typed while a program runs are not lost: they are the next command.
    let out = b.send(b"n = 0\nwhile n < 5000:\n n += 1\x04print(n)\x04");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "OK\x04\x04>OK5000\r\n\x04\x04>"
    );
}

#[test]
fn output_of_a_long_program_streams_before_it_ends() {
    let mut b = Board::new("stream");
    b.enter_raw();
    // The Ctrl-C arrives after the first lines were printed and polled out.
    b.session.with_link(|l| l.hold = 5);
    let out =
        b.send(b"for i in range(3):\n print(i)\nimport tests.spin\ntests.spin.forever()\x04\x03");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("OK0\r\n1\r\n2\r\n\x04Traceback"), "{text}");
}

#[test]
fn garbage_and_half_sent_pastes_leave_the_console_usable() {
    let mut b = Board::new("garbage");
    b.send(b"\xff\xfe junk \x1b[31m \x05\x05A");
    b.enter_raw();
    // A paste cut off mid-transfer, then mpremote's next takeover.
    b.send(b"\x05A\x01");
    b.send(b"print('half");
    b.enter_raw();
    let (out, _) = b.exec("print('fine')");
    assert_eq!(out, "fine\r\n");
    // Ctrl-C in the middle of a raw-paste transfer.
    b.send(b"\x05A\x01");
    let out = b.send(b"f=open('x','wb')\x03");
    assert_eq!(out, b"\x04\x04KeyboardInterrupt\r\n\x04>");
    let (out, _) = b.exec("import os\nprint(os.listdir())");
    assert_eq!(out, "[]\r\n");
}

#[test]
fn a_soft_reboot_closes_files_and_resets_the_vm() {
    let mut b = Board::new("reboot");
    b.enter_raw();
    b.ok("x = 5\nf = open('kept', 'w')\nf.write('data')");
    // Ctrl-D on an empty raw command: soft reboot (the file is closed and its data kept).
    let out = b.send(b"\x04");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>"
    );
    assert_eq!(std::fs::read_to_string(b.dir.join("kept")).unwrap(), "data");
    let (_, err) = b.exec("print(x)");
    assert!(err.contains("NameError"), "{err}");
}

#[test]
fn the_friendly_prompt_runs_blocks_and_board_commands() {
    let mut b = Board::new("friendly");
    let out = b.send(b"for i in [1, 2]:\r    i * 10\r\r%info\r");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "for i in [1, 2]:\r\n...     i * 10\r\n... \r\n10\r\n20\r\n>>> %info\r\nboard command info\r\n>>> "
    );
    // A loop making garbage at every iteration does not fill the heap.
    let out = b.send(b"import gc\rfor i in range(3000): x = [i, i, i, i]\r\rgc.collect(); gc.mem_alloc() < 8000\r");
    assert!(
        String::from_utf8_lossy(&out).ends_with("True\r\n>>> "),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let out = b.send(b"\x04");
    assert_eq!(
        String::from_utf8_lossy(&out),
        "\r\nMPY: soft reboot\r\nminivm test board\r\n>>> "
    );
}
