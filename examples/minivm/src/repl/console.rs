//! The console's byte protocol, as MicroPython's `pyexec` speaks it: the friendly prompt, paste
//! mode, the raw REPL and raw-paste mode. A state machine with no I/O of its own ("sans-IO"):
//! the embedder feeds it one received byte at a time and gives it a [`Sink`] for what to send
//! back; when a program is complete [`Console::feed`] returns [`Event::Run`], the embedder runs it
//! (its output going to the same sink, through [`write_cooked`]) and calls [`Console::finish`].
//! The Pico (UART and USB) and the host's `minivm --pty` share it.
//!
//! ```text
//! friendly  ">>> "  line editing (BS/DEL, CR/LF/CRLF), continuation "... " while the input
//!                   is incomplete (an open bracket, a block); % lines are board commands
//!   Ctrl-A  → raw       "\r\n" then the raw banner "raw REPL; CTRL-B to exit\r\n>"
//!   Ctrl-B            "\r\n" banner, prompt        Ctrl-C  "\r\n", prompt (line dropped)
//!   Ctrl-D  (empty)   "\r\n" → soft reboot         Ctrl-E  paste mode ("=== " prompts,
//!                                                          Ctrl-D runs, Ctrl-C cancels)
//! raw       bytes collect; Ctrl-C drops them; Ctrl-A resets (banner again); Ctrl-B → friendly
//!   Ctrl-D  "OK", then output, "\x04", error text, "\x04", ">"     (empty: "OK\r\n", soft reboot)
//!   Ctrl-E 'A' Ctrl-A  → raw paste: "R\x01", window size (u16 LE), "\x01"; the host sends at most
//!           a window ahead and the device sends "\x01" for each window it has taken; Ctrl-D
//!           ends the data ("\x04" acknowledges it), then output, "\x04", error, "\x04", ">";
//!           Ctrl-C mid-paste cancels it (KeyboardInterrupt); a program over the size limit is
//!           cut short with "\x04" (the host answers "\x04") and a MemoryError.
//! ```
//!
//! Anything else a host may throw at it — garbage bytes, a half-sent paste followed by a fresh
//! `\r\x03\r\x01`, Ctrl-C at any point — leaves it at a prompt: every state has a way back.

use alloc::string::String;
use alloc::vec::Vec;

use super::eval::Mode;
use super::lex::needs_more;

/// Where the console's bytes go (a UART, a USB port, a pty, a test buffer).
pub trait Sink {
    /// Sends `bytes` (best effort: a console never fails on output).
    fn write(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Program output as a terminal wants it: each `\n` sent as `\r\n` (as MicroPython's stdout does
/// in every mode).
pub fn write_cooked(out: &mut dyn Sink, text: &[u8]) {
    for (i, part) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.write(b"\r\n");
        }
        if !part.is_empty() {
            out.write(part);
        }
    }
}

/// The raw REPL's banner, exactly as `mpremote` waits for it.
pub const RAW_BANNER: &[u8] = b"raw REPL; CTRL-B to exit\r\n";
/// What a soft reboot prints before the REPL comes back (mpremote waits for "soft reboot\r\n").
pub const SOFT_REBOOT: &[u8] = b"MPY: soft reboot\r\n";
/// The friendly prompt.
pub const PS1: &[u8] = b">>> ";
/// The continuation prompt.
pub const PS2: &[u8] = b"... ";
/// Raw-paste flow-control window: the host may send this many bytes per `\x01` it received.
pub const PASTE_WINDOW: u16 = 128;

const CTRL_A: u8 = 0x01;
const CTRL_B: u8 = 0x02;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_E: u8 = 0x05;
const BS: u8 = 0x08;
const ESC: u8 = 0x1b;
const DEL: u8 = 0x7f;

/// What the embedder must do after a byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Run `source` (printing expression values if `mode` is [`Mode::Interactive`]), then call
    /// [`Console::finish`].
    Run {
        /// The program.
        source: String,
        /// How its expression statements behave.
        mode: Mode,
    },
    /// Ctrl-D at an empty prompt: soft reboot (reset the VM), then call [`Console::rebooted`].
    SoftReboot,
    /// A line starting with `%` at the friendly prompt (without the `%`): a board command; call
    /// [`Console::prompt`] when it is done.
    Command(String),
}

/// Where the console is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The friendly prompt (`cont`: continuation lines of an incomplete input so far).
    Friendly { cont: bool },
    /// Friendly paste mode (`=== `).
    Paste,
    /// The raw REPL, collecting a command.
    Raw,
    /// Raw paste: receiving data, `remain` bytes left in the current window.
    RawPaste { remain: u16 },
    /// Raw paste cut short (too long): ignoring bytes until the host's Ctrl-D or Ctrl-C.
    RawPasteDrain,
    /// A program handed out by [`Event::Run`] is running (`raw`: which REPL to go back to).
    Running { raw: bool },
}

/// The console protocol state machine; see the module docs.
#[derive(Debug, Clone)]
pub struct Console {
    state: State,
    /// The line being edited (friendly) or the command being received (raw, raw paste).
    line: Vec<u8>,
    /// Friendly: the complete lines of an incomplete input so far.
    program: Vec<u8>,
    /// Largest program accepted, in bytes.
    limit: usize,
    /// The command went over `limit` (raw REPL): answer with a MemoryError instead of running it.
    overflow: bool,
    /// The previous byte was a CR (a following LF belongs to the same line end).
    after_cr: bool,
    /// Inside an escape sequence (arrow keys): 1 after ESC, 2 after ESC '['.
    escape: u8,
    /// What Ctrl-B and the start of the friendly REPL print (lines ended by `\r\n`).
    banner: String,
}

impl Console {
    /// A console at the friendly prompt (nothing printed yet: call [`Console::ready`]); programs
    /// longer than `limit` bytes are refused with a MemoryError; `banner` is printed by Ctrl-B
    /// and after a soft reboot (each `\n` sent as `\r\n`).
    pub fn new(banner: &str, limit: usize) -> Console {
        Console {
            state: State::Friendly { cont: false },
            line: Vec::new(),
            program: Vec::new(),
            limit,
            overflow: false,
            after_cr: false,
            escape: 0,
            banner: String::from(banner),
        }
    }

    /// Whether the raw REPL (or raw paste) is active.
    pub fn is_raw(&self) -> bool {
        matches!(
            self.state,
            State::Raw
                | State::RawPaste { .. }
                | State::RawPasteDrain
                | State::Running { raw: true }
        )
    }

    /// Prints the banner and prompt of the current REPL (at boot, or after a soft reboot has
    /// finished printing its own lines).
    pub fn ready(&mut self, out: &mut dyn Sink) {
        if self.is_raw() {
            self.state = State::Raw;
            self.reset_input();
            out.write(RAW_BANNER);
            out.write(b">");
        } else {
            self.state = State::Friendly { cont: false };
            self.reset_input();
            write_cooked(out, self.banner.as_bytes());
            out.write(b"\r\n");
            out.write(PS1);
        }
    }

    /// After [`Event::SoftReboot`]: prints the soft-reboot line. The embedder then resets its VM
    /// (and may print what it did) and calls [`Console::ready`].
    pub fn rebooted(&mut self, out: &mut dyn Sink) {
        out.write(SOFT_REBOOT);
    }

    /// After [`Event::Command`]: the friendly prompt again.
    pub fn prompt(&mut self, out: &mut dyn Sink) {
        self.state = State::Friendly { cont: false };
        self.reset_input();
        out.write(PS1);
    }

    /// After [`Event::Run`]: `error` is the text of the exception that ended the program (a
    /// traceback, lines ended by `\n`), or `None`. Frames it for the REPL the program came from
    /// and prints that REPL's prompt.
    pub fn finish(&mut self, error: Option<&str>, out: &mut dyn Sink) {
        let raw = matches!(self.state, State::Running { raw: true });
        if raw {
            out.write(&[CTRL_D]);
            if let Some(e) = error {
                write_cooked(out, e.as_bytes());
            }
            out.write(&[CTRL_D]);
            out.write(b">");
            self.state = State::Raw;
        } else {
            if let Some(e) = error {
                write_cooked(out, e.as_bytes());
            }
            out.write(PS1);
            self.state = State::Friendly { cont: false };
        }
        self.reset_input();
    }

    fn reset_input(&mut self) {
        self.line.clear();
        self.program.clear();
        self.overflow = false;
        self.escape = 0;
    }

    /// Takes one received byte; see the module docs for what each does.
    pub fn feed(&mut self, byte: u8, out: &mut dyn Sink) -> Option<Event> {
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match self.state {
            State::Friendly { cont } => self.friendly(byte, cont, after_cr, out),
            State::Paste => self.paste(byte, out),
            State::Raw => self.raw(byte, out),
            State::RawPaste { remain } => self.raw_paste(byte, remain, out),
            State::RawPasteDrain => {
                if byte == CTRL_C || byte == CTRL_D {
                    out.write(&[CTRL_D]);
                    write_cooked(out, self.too_long().as_bytes());
                    out.write(&[CTRL_D]);
                    out.write(b">");
                    self.state = State::Raw;
                    self.reset_input();
                }
                None
            }
            // The embedder reads input itself while a program runs (Ctrl-C); nothing to do.
            State::Running { .. } => None,
        }
    }

    fn too_long(&self) -> String {
        alloc::format!("MemoryError: program longer than {} bytes\n", self.limit)
    }

    fn friendly(
        &mut self,
        byte: u8,
        cont: bool,
        after_cr: bool,
        out: &mut dyn Sink,
    ) -> Option<Event> {
        if self.escape > 0 {
            // ESC [ … final byte: arrow keys and the like are not line editing we support.
            self.escape = match (self.escape, byte) {
                (1, b'[' | b'O') => 2,
                (2, 0x30..=0x3f) => 2,
                _ => 0,
            };
            return None;
        }
        match byte {
            b'\n' if after_cr => None,
            b'\r' | b'\n' => {
                out.write(b"\r\n");
                self.end_of_line(cont, out)
            }
            BS | DEL => {
                if self.line.pop().is_some() {
                    out.write(b"\x08 \x08");
                }
                None
            }
            CTRL_A if self.line.is_empty() && !cont => {
                out.write(b"\r\n");
                self.state = State::Raw;
                self.reset_input();
                out.write(RAW_BANNER);
                out.write(b">");
                None
            }
            CTRL_B if self.line.is_empty() && !cont => {
                out.write(b"\r\n");
                self.ready(out);
                None
            }
            CTRL_C => {
                out.write(b"\r\n");
                self.prompt(out);
                None
            }
            CTRL_D if self.line.is_empty() && !cont => {
                out.write(b"\r\n");
                self.reset_input();
                Some(Event::SoftReboot)
            }
            CTRL_D if cont => {
                // Stop entering the compound statement: run what there is.
                out.write(b"\r\n");
                let line = core::mem::take(&mut self.line);
                if !line.is_empty() {
                    self.program.push(b'\n');
                    self.program.extend_from_slice(&line);
                }
                self.run_program()
            }
            CTRL_E if self.line.is_empty() && !cont => {
                out.write(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ");
                self.reset_input();
                self.state = State::Paste;
                None
            }
            ESC => {
                self.escape = 1;
                None
            }
            0x20..=0x7e | 0x80..=0xff => {
                if self.program.len() + self.line.len() < self.limit {
                    self.line.push(byte);
                    out.write(&[byte]);
                }
                None
            }
            // Other control characters (tab, bell, stray Ctrl-A in a line, …) are ignored.
            _ => None,
        }
    }

    /// Enter at the friendly prompt: a board command, more lines, or a program to run.
    fn end_of_line(&mut self, cont: bool, out: &mut dyn Sink) -> Option<Event> {
        let line = core::mem::take(&mut self.line);
        if !cont {
            let text = String::from_utf8_lossy(&line);
            let trimmed = text.trim();
            if trimmed.is_empty() {
                out.write(PS1);
                return None;
            }
            if let Some(cmd) = trimmed.strip_prefix('%') {
                self.state = State::Running { raw: false };
                return Some(Event::Command(String::from(cmd.trim())));
            }
        }
        if cont {
            self.program.push(b'\n');
        }
        self.program.extend_from_slice(&line);
        let src = String::from_utf8_lossy(&self.program);
        if needs_more(&src) {
            self.state = State::Friendly { cont: true };
            out.write(PS2);
            return None;
        }
        self.run_program()
    }

    fn run_program(&mut self) -> Option<Event> {
        let source = String::from_utf8_lossy(&self.program).into_owned();
        self.program.clear();
        self.state = State::Running { raw: false };
        Some(Event::Run {
            source,
            mode: Mode::Interactive,
        })
    }

    fn paste(&mut self, byte: u8, out: &mut dyn Sink) -> Option<Event> {
        match byte {
            CTRL_C => {
                out.write(b"\r\n");
                self.prompt(out);
                None
            }
            CTRL_D => {
                out.write(b"\r\n");
                let source = String::from_utf8_lossy(&self.program).into_owned();
                self.program.clear();
                self.state = State::Running { raw: false };
                Some(Event::Run {
                    source,
                    mode: Mode::File,
                })
            }
            _ => {
                if self.program.len() < self.limit {
                    self.program.push(byte);
                }
                if byte == b'\r' {
                    out.write(b"\r\n=== ");
                } else if byte != b'\n' {
                    out.write(&[byte]);
                }
                None
            }
        }
    }

    fn raw(&mut self, byte: u8, out: &mut dyn Sink) -> Option<Event> {
        match byte {
            CTRL_A if self.line.len() == 2 && self.line[0] == CTRL_E => {
                if self.line[1] != b'A' {
                    // A raw-paste variant we do not know.
                    out.write(b"R\x00>");
                    self.reset_input();
                    return None;
                }
                out.write(b"R\x01");
                out.write(&PASTE_WINDOW.to_le_bytes());
                // The window size counts as one free window; this says a second one is free too.
                out.write(&[CTRL_A]);
                self.reset_input();
                self.state = State::RawPaste {
                    remain: PASTE_WINDOW,
                };
                None
            }
            CTRL_A => {
                self.reset_input();
                out.write(RAW_BANNER);
                out.write(b">");
                None
            }
            CTRL_B => {
                out.write(b"\r\n");
                self.state = State::Friendly { cont: false };
                self.ready(out);
                None
            }
            CTRL_C => {
                self.reset_input();
                None
            }
            CTRL_D => {
                out.write(b"OK");
                if self.line.is_empty() && !self.overflow {
                    out.write(b"\r\n");
                    self.reset_input();
                    return Some(Event::SoftReboot);
                }
                if self.overflow {
                    out.write(&[CTRL_D]);
                    write_cooked(out, self.too_long().as_bytes());
                    out.write(&[CTRL_D]);
                    out.write(b">");
                    self.reset_input();
                    return None;
                }
                let source = String::from_utf8_lossy(&self.line).into_owned();
                self.reset_input();
                self.state = State::Running { raw: true };
                Some(Event::Run {
                    source,
                    mode: Mode::File,
                })
            }
            _ => {
                if self.line.len() < self.limit {
                    self.line.push(byte);
                } else {
                    self.overflow = true;
                }
                None
            }
        }
    }

    fn raw_paste(&mut self, byte: u8, remain: u16, out: &mut dyn Sink) -> Option<Event> {
        match byte {
            CTRL_C => {
                // Cancelled mid-transfer: end the data, then report the interruption.
                out.write(&[CTRL_D]);
                out.write(&[CTRL_D]);
                out.write(b"KeyboardInterrupt\r\n");
                out.write(&[CTRL_D]);
                out.write(b">");
                self.state = State::Raw;
                self.reset_input();
                None
            }
            CTRL_D => {
                out.write(&[CTRL_D]);
                let source = String::from_utf8_lossy(&self.line).into_owned();
                self.reset_input();
                self.state = State::Running { raw: true };
                Some(Event::Run {
                    source,
                    mode: Mode::File,
                })
            }
            _ => {
                if self.line.len() >= self.limit {
                    // Too long to hold: ask the host to stop ("\x04"), then drain.
                    out.write(&[CTRL_D]);
                    self.state = State::RawPasteDrain;
                    self.line.clear();
                    return None;
                }
                self.line.push(byte);
                let remain = if remain <= 1 {
                    out.write(&[CTRL_A]);
                    PASTE_WINDOW
                } else {
                    remain - 1
                };
                self.state = State::RawPaste { remain };
                None
            }
        }
    }
}
