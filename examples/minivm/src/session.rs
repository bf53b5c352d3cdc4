//! A console session: the [`Console`] protocol (friendly prompt, raw REPL, raw paste) driving a
//! [`Vm`] over a byte [`Link`] — the Pico's UART and USB, or a pty on the host.
//!
//! The embedder's loop is `loop { match session.step(&mut vm) { … } }`: [`Session::step`] takes
//! one byte (blocking), feeds it to the console and runs any program that completes; it returns
//! only for what the embedder must do itself: a soft reboot (drop the VM, make a fresh one, then
//! [`Session::rebooted`]), a `%` board command (then [`Session::prompt`]), or the link closing.
//!
//! While a program runs, the session is the VM's [`Poller`]: what the program prints is sent as
//! it goes, a Ctrl-C on the link raises `KeyboardInterrupt`, and other bytes typed meanwhile are
//! kept and fed to the console afterwards (type-ahead), as MicroPython's input buffer does.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use core::cell::RefCell;
use core::fmt;

use crate::mem::FlashImage;
use crate::poll::Poller;
use crate::repl::console::{Console, Event, Sink, write_cooked};
use crate::repl::{self, LineError, Mode};
use crate::vm::Vm;

/// Bytes kept from what is typed while a program runs (more are dropped).
pub const TYPEAHEAD: usize = 1024;

const CTRL_C: u8 = 0x03;

/// A console byte stream.
pub trait Link {
    /// Waits for the next byte; `None` when the link is gone for good.
    fn read(&mut self) -> Option<u8>;
    /// The next byte if one has arrived (never waits).
    fn try_read(&mut self) -> Option<u8>;
    /// Sends `bytes` (best effort).
    fn write(&mut self, bytes: &[u8]);
}

struct Shared<L> {
    link: L,
    typeahead: VecDeque<u8>,
}

/// What [`Session::step`] hands back to the embedder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ctrl-D at an empty prompt: soft-reboot the VM, then call [`Session::rebooted`].
    Reboot,
    /// A `%` line at the friendly prompt (without the `%`); call [`Session::prompt`] after it.
    Command(String),
    /// The link is gone.
    Closed,
}

/// The console protocol over a [`Link`]; see the module docs.
pub struct Session<L: Link> {
    shared: Rc<RefCell<Shared<L>>>,
    /// The protocol state.
    pub console: Console,
}

/// A [`Sink`] (and `fmt::Write`, with `\n` sent as `\r\n`) onto a session's link.
pub struct Out<'a, L: Link>(&'a RefCell<Shared<L>>);

impl<L: Link> Sink for Out<'_, L> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.borrow_mut().link.write(bytes);
    }
}

impl<L: Link> fmt::Write for Out<'_, L> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_cooked(self, s.as_bytes());
        Ok(())
    }
}

/// The session as the VM's poller while a program runs.
struct SessionPoller<L: Link> {
    shared: Rc<RefCell<Shared<L>>>,
}

impl<L: Link> Poller for SessionPoller<L> {
    fn poll(&mut self, out: &mut String) -> bool {
        let mut s = self.shared.borrow_mut();
        if !out.is_empty() {
            let mut sink = LinkRef(&mut s.link);
            write_cooked(&mut sink, out.as_bytes());
            out.clear();
        }
        let mut interrupted = false;
        while let Some(b) = s.link.try_read() {
            if b == CTRL_C {
                interrupted = true;
            } else if s.typeahead.len() < TYPEAHEAD {
                s.typeahead.push_back(b);
            }
        }
        interrupted
    }
}

/// A sink onto a borrowed link.
struct LinkRef<'a, L: Link>(&'a mut L);

impl<L: Link> Sink for LinkRef<'_, L> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
}

impl<L: Link + 'static> Session<L> {
    /// A session of `console` over `link` (nothing is printed yet: call [`Session::ready`]).
    pub fn new(link: L, console: Console) -> Session<L> {
        Session {
            shared: Rc::new(RefCell::new(Shared {
                link,
                typeahead: VecDeque::new(),
            })),
            console,
        }
    }

    /// Runs `f` on the link (for the embedder's own I/O: board commands, status lines).
    pub fn with_link<T>(&self, f: impl FnOnce(&mut L) -> T) -> T {
        f(&mut self.shared.borrow_mut().link)
    }

    /// Where the embedder's own output goes (cooked when written with `write!`).
    pub fn out(&self) -> Out<'_, L> {
        Out(&self.shared)
    }

    /// Prints the current REPL's banner and prompt.
    pub fn ready(&mut self) {
        let mut out = Out(&self.shared);
        self.console.ready(&mut out);
    }

    /// After [`Step::Reboot`], before the new VM exists: prints the soft-reboot line. Print
    /// anything else, then call [`Session::ready`].
    pub fn rebooted(&mut self) {
        let mut out = Out(&self.shared);
        self.console.rebooted(&mut out);
    }

    /// After [`Step::Command`]: the prompt again.
    pub fn prompt(&mut self) {
        let mut out = Out(&self.shared);
        self.console.prompt(&mut out);
    }

    /// Takes one byte (type-ahead first, else waits on the link), feeds it to the console and
    /// runs what completes; see [`Step`] for what comes back.
    pub fn step<F: FlashImage>(&mut self, vm: &mut Vm<F>) -> Option<Step> {
        let queued = self.shared.borrow_mut().typeahead.pop_front();
        let byte = match queued {
            Some(b) => b,
            None => match self.shared.borrow_mut().link.read() {
                Some(b) => b,
                None => return Some(Step::Closed),
            },
        };
        let event = {
            let mut out = Out(&self.shared);
            self.console.feed(byte, &mut out)
        };
        match event? {
            Event::Run { source, mode } => {
                self.run(vm, &source, mode);
                None
            }
            Event::SoftReboot => Some(Step::Reboot),
            Event::Command(c) => Some(Step::Command(c)),
        }
    }

    /// Runs `source` on `vm` with this session as its poller, then frames the result.
    fn run<F: FlashImage>(&mut self, vm: &mut Vm<F>, source: &str, mode: Mode) {
        let poller = Box::new(SessionPoller {
            shared: self.shared.clone(),
        });
        let previous = vm.set_poller(poller);
        vm.young.clear();
        let r = repl::run(vm, source, mode);
        vm.young.clear();
        vm.take_poller();
        if let Some(p) = previous {
            vm.set_poller(p);
        }
        let printed = vm.take_output();
        let mut out = Out(&self.shared);
        write_cooked(&mut out, printed.as_bytes());
        let err = match r {
            Ok(()) => None,
            Err(LineError::Syntax(e)) => Some(format!("{e}\n")),
            Err(LineError::Raised(e)) => Some(format!(
                "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n{}{}\n",
                e.traceback, e.text
            )),
        };
        self.console.finish(err.as_deref(), &mut out);
    }
}

/// Closes the files a VM left open (before it is dropped for a soft reboot).
pub fn close_files<F: FlashImage>(vm: &Vm<F>) {
    if let Some(root) = &vm.vfs {
        let _ = root.close_all();
    }
}
