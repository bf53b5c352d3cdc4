//! The console's byte stream: UART0 and, in addition, a USB CDC serial port, as minivm's session
//! [`Link`].
//!
//! Input comes from whichever side has a byte; output goes to both. USB is polled from `read` (the
//! console waits for input by calling it in a loop). Output goes to USB only while a terminal has the
//! port open (the host set DTR). A host that pauses (a busy terminal, a scheduler hiccup) is waited
//! for, up to [`USB_WRITE_TIMEOUT_US`] per byte, so a pause loses nothing. Only a host that keeps the
//! port open and stops reading for longer gets a byte dropped; later bytes are then tried once each
//! (no waiting) until one gets through again, so the UART console never hangs because of USB.

use embedded_hal_nb::serial::{Read, Write};
use minivm::session::Link;
use rp2040_hal::Timer;
use rp2040_hal::usb::UsbBus;
use usb_device::device::{UsbDevice, UsbDeviceState};
use usbd_serial::SerialPort;

/// How long a byte waits for room in the USB transmit buffer before it is dropped, in µs: half a
/// second, far beyond a host's usual pauses (it reads every 1 ms frame), short enough that output to
/// a host that stopped reading does not look like a hang on the UART.
const USB_WRITE_TIMEOUT_US: u64 = 500_000;

/// UART0 plus USB CDC as one serial port.
pub struct Ports<'a, U> {
    uart: U,
    usb: UsbDevice<'a, UsbBus>,
    serial: SerialPort<'a, UsbBus>,
    /// The 1 MHz timer, for the USB write timeout.
    timer: Timer,
    /// The host stopped taking USB output: don't wait for it until a byte gets through again.
    usb_stalled: bool,
}

impl<'a, U> Ports<'a, U> {
    /// Combines the UART with the USB device and its CDC class; `timer` bounds the USB waits.
    pub fn new(
        uart: U,
        usb: UsbDevice<'a, UsbBus>,
        serial: SerialPort<'a, UsbBus>,
        timer: Timer,
    ) -> Self {
        Self {
            uart,
            usb,
            serial,
            timer,
            usb_stalled: false,
        }
    }

    /// Lets the USB stack answer the host; returns whether the CDC class may have data.
    fn poll(&mut self) -> bool {
        self.usb.poll(&mut [&mut self.serial])
    }

    /// Whether `USB_WRITE_TIMEOUT_US` has passed since `start` (a timer reading, in µs).
    fn timed_out(&self, start: u64) -> bool {
        self.timer.get_counter().ticks().wrapping_sub(start) >= USB_WRITE_TIMEOUT_US
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
        let start = self.timer.get_counter().ticks();
        while self.usb_up() {
            if let Ok(1) = self.serial.write(&[byte]) {
                self.usb_stalled = false;
                return;
            }
            // After a drop, one try per byte until the host reads again.
            if self.usb_stalled || self.timed_out(start) {
                self.usb_stalled = true;
                self.poll();
                return;
            }
            self.poll();
        }
    }

    /// Pushes what USB has buffered to the host (the end of a write).
    fn flush_usb(&mut self) {
        let start = self.timer.get_counter().ticks();
        while self.usb_up() && !self.usb_stalled {
            if self.serial.flush().is_ok() {
                return;
            }
            if self.timed_out(start) {
                self.usb_stalled = true;
                return;
            }
            self.poll();
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
