//! The console's byte stream: UART0 and, in addition, a USB CDC serial port, as minivm's session
//! [`Link`].
//!
//! Input comes from whichever side has a byte; output goes to both. USB is polled from `read` (the
//! console waits for input by calling it in a loop). Output goes to USB only while a terminal has the
//! port open (the host set DTR), and never blocks for long: when the host stops reading, a byte is
//! dropped after a bounded number of polls, and later bytes are tried once each (no waiting) until one
//! gets through again, so the UART console never slows down or hangs because of USB.

use embedded_hal_nb::serial::{Read, Write};
use minivm::session::Link;
use rp2040_hal::usb::UsbBus;
use usb_device::device::{UsbDevice, UsbDeviceState};
use usbd_serial::SerialPort;

/// Polls of the USB device while waiting for room in the USB transmit buffer, before a byte is dropped.
const USB_WRITE_POLLS: u32 = 2_000;

/// UART0 plus USB CDC as one serial port.
pub struct Ports<'a, U> {
    uart: U,
    usb: UsbDevice<'a, UsbBus>,
    serial: SerialPort<'a, UsbBus>,
    /// The host stopped taking USB output: don't wait for it until a byte gets through again.
    usb_stalled: bool,
}

impl<'a, U> Ports<'a, U> {
    /// Combines the UART with the USB device and its CDC class.
    pub fn new(uart: U, usb: UsbDevice<'a, UsbBus>, serial: SerialPort<'a, UsbBus>) -> Self {
        Self {
            uart,
            usb,
            serial,
            usb_stalled: false,
        }
    }

    /// Lets the USB stack answer the host; returns whether the CDC class may have data.
    fn poll(&mut self) -> bool {
        self.usb.poll(&mut [&mut self.serial])
    }

    /// Whether a terminal has the USB port open (configured, DTR set): USB output is only sent then.
    fn usb_up(&self) -> bool {
        self.usb.state() == UsbDeviceState::Configured && self.serial.dtr()
    }
}

impl<U: Read<u8> + Write<u8>> Ports<'_, U> {
    /// A byte from either side, if one has arrived (USB is polled first).
    fn next_byte(&mut self) -> Option<u8> {
        self.poll();
        // A UART line error (overrun, framing, …) loses that byte only; USB gets its turn either way.
        if let Ok(b) = self.uart.read() {
            return Some(b);
        }
        let mut b = [0u8; 1];
        match self.serial.read(&mut b) {
            Ok(1) => Some(b[0]),
            _ => None,
        }
    }

    /// Sends one byte: on the UART always (waiting for FIFO room), on USB while a terminal is open
    /// and keeps reading.
    fn send(&mut self, byte: u8) {
        // Output is best effort: a UART error loses the byte.
        let _ = nb::block!(self.uart.write(byte));
        if self.usb_up() {
            let polls = if self.usb_stalled { 1 } else { USB_WRITE_POLLS };
            self.usb_stalled = true;
            for _ in 0..polls {
                if let Ok(1) = self.serial.write(&[byte]) {
                    self.usb_stalled = false;
                    break;
                }
                self.poll();
            }
        }
    }

    /// Pushes what USB has buffered to the host (the end of a write).
    fn flush_usb(&mut self) {
        if self.usb_up() && !self.usb_stalled {
            for _ in 0..USB_WRITE_POLLS {
                if self.serial.flush().is_ok() {
                    break;
                }
                self.poll();
            }
        }
    }
}

impl<U: Read<u8> + Write<u8>> Link for Ports<'static, U> {
    fn read(&mut self) -> Option<u8> {
        loop {
            if let Some(b) = self.next_byte() {
                return Some(b);
            }
        }
    }

    fn try_read(&mut self) -> Option<u8> {
        self.next_byte()
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.send(b);
        }
        self.flush_usb();
    }
}
