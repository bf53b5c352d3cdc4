//! The panic handler: prints the panic message on UART0, then halts.
//!
//! It writes the UART's registers directly (the driver object belongs to the interrupted code), with a
//! bounded wait per byte, so a panic before the UART is set up just halts.

use core::fmt::{self, Write};
use core::panic::PanicInfo;

/// UART0 registers (RP2040 datasheet 4.2.8): data register and flag register.
const UART0_DR: *mut u32 = 0x4003_4000 as *mut u32;
const UART0_FR: *const u32 = 0x4003_4018 as *const u32;
/// FR: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;

struct RawUart;

impl Write for RawUart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if b == b'\n' {
                put(b'\r');
            }
            put(b);
        }
        Ok(())
    }
}

fn put(b: u8) {
    for _ in 0..100_000 {
        // SAFETY: UART0_FR is a read-only register of the always-present UART0 block; reading it has
        // no side effects.
        if unsafe { UART0_FR.read_volatile() } & FR_TXFF == 0 {
            // SAFETY: writing a byte to UART0_DR queues it for transmission; nothing else runs now.
            unsafe { UART0_DR.write_volatile(u32::from(b)) };
            return;
        }
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    cortex_m::interrupt::disable();
    let _ = write!(RawUart, "\n*** firmware panic: {info}\n*** halted\n");
    loop {
        cortex_m::asm::wfi();
    }
}
