//! A line console over a byte-oriented serial port: echo, backspace, CR/LF/CRLF line ends.
//!
//! Generic over the port (`embedded_hal_nb::serial::{Read, Write}`): UART0 and USB here (`port`), or
//! any other byte stream; output goes through `core::fmt::Write` with `\n` turned into `\r\n`.

use core::fmt;

use embedded_hal_nb::serial::{Read, Write};

/// A serial line console.
pub struct Console<S> {
    port: S,
    /// The previous byte ended a line with `\r`, so a following `\n` is the same line end.
    after_cr: bool,
}

impl<S: Read<u8> + Write<u8>> Console<S> {
    /// Wraps `port`.
    pub fn new(port: S) -> Self {
        Self {
            port,
            after_cr: false,
        }
    }

    /// Sends raw bytes, blocking until the port has taken them all.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // Output is best effort: a port error loses the byte, the console goes on.
            let _ = nb::block!(self.port.write(b));
        }
    }

    /// Prints `prompt`, then reads one line (echoed) into `buf` and returns it without its line end.
    ///
    /// Bytes that are not printable ASCII (other than backspace/DEL) are ignored, so the line is always
    /// valid UTF-8; bytes beyond `buf.len()` are dropped.
    pub fn read_line<'b>(&mut self, prompt: &str, buf: &'b mut [u8]) -> &'b str {
        self.write_bytes(prompt.as_bytes());
        let mut len = 0;
        loop {
            let Ok(b) = nb::block!(self.port.read()) else {
                // Framing/overrun/parity errors: drop the byte.
                continue;
            };
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    self.after_cr = b == b'\r';
                    self.write_bytes(b"\r\n");
                    break;
                }
                0x08 | 0x7f => {
                    self.after_cr = false;
                    if len > 0 {
                        len -= 1;
                        self.write_bytes(b"\x08 \x08");
                    }
                }
                0x20..=0x7e => {
                    self.after_cr = false;
                    if len < buf.len() {
                        buf[len] = b;
                        len += 1;
                        self.write_bytes(&[b]);
                    }
                }
                _ => self.after_cr = false,
            }
        }
        // Only printable ASCII was stored above.
        core::str::from_utf8(&buf[..len]).unwrap_or("")
    }
}

impl<S: Read<u8> + Write<u8>> fmt::Write for Console<S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.write_bytes(b"\r\n");
            }
            self.write_bytes(part.as_bytes());
        }
        Ok(())
    }
}
