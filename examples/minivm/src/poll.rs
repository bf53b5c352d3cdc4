//! The embedder's periodic check while Python code runs: Ctrl-C and streamed output.
//!
//! The interpreter already counts opcodes against [`Vm::fuel`] (which bounds loops in the fuzz
//! tests). When it reaches zero the VM calls [`Vm::refuel`]: with a [`Poller`] installed, the
//! poller gets what the program printed so far (to send now, instead of when the program ends)
//! and says whether the user typed Ctrl-C (then `KeyboardInterrupt` is raised); then another
//! [`POLL_OPS`] opcodes are moved from [`Vm::fuel_bank`]. An empty bank is `RuntimeError: out of
//! fuel`, as before. A VM without a poller and with an empty bank behaves exactly as it did:
//! `fuel` is `u64::MAX`.

use alloc::boxed::Box;
use alloc::string::String;

use crate::mem::FlashImage;
use crate::vm::{R, Vm};

/// Opcodes between two polls (a few milliseconds of bytecode on an RP2040).
pub const POLL_OPS: u64 = 4096;

/// What the embedder does every [`POLL_OPS`] opcodes, and at every loop iteration of the console.
pub trait Poller {
    /// Sends `out` (what the program printed since the last call) and clears it; returns whether
    /// Ctrl-C was typed since the last call.
    fn poll(&mut self, out: &mut String) -> bool;
}

impl<F: FlashImage> Vm<F> {
    /// Installs `poller` (replacing any other) and returns the previous one; fuel is split into
    /// polling slices, the rest kept in the bank.
    pub fn set_poller(&mut self, poller: Box<dyn Poller>) -> Option<Box<dyn Poller>> {
        let total = self.fuel.saturating_add(self.fuel_bank);
        self.fuel = total.min(POLL_OPS);
        self.fuel_bank = total - self.fuel;
        self.poller.replace(poller)
    }

    /// Removes the poller; all fuel goes back into [`Vm::fuel`].
    pub fn take_poller(&mut self) -> Option<Box<dyn Poller>> {
        self.fuel = self
            .fuel
            .saturating_add(core::mem::take(&mut self.fuel_bank));
        self.poller.take()
    }

    /// Runs the poller now: raises `KeyboardInterrupt` if the user typed Ctrl-C.
    pub fn poll_now(&mut self) -> R<()> {
        let interrupted = match self.poller.as_mut() {
            Some(p) => p.poll(&mut self.out),
            None => false,
        };
        if interrupted {
            return self.raise_empty("KeyboardInterrupt");
        }
        Ok(())
    }

    /// Called when [`Vm::fuel`] reaches zero: polls, then refills from the bank (or raises
    /// `RuntimeError: out of fuel` when the bank is empty too).
    pub fn refuel(&mut self) -> R<()> {
        self.poll_now()?;
        if self.fuel_bank == 0 {
            return self.raise_msg("RuntimeError", "out of fuel");
        }
        let slice = if self.poller.is_some() {
            POLL_OPS
        } else {
            u64::MAX
        };
        self.fuel = self.fuel_bank.min(slice);
        self.fuel_bank -= self.fuel;
        Ok(())
    }
}
