//! The flash as the store's logic sees it: one small internal trait, [`Device`], with a
//! blocking front-end ([`Blocking`], any `embedded-storage` `NorFlash`) and an async one
//! ([`Awaiting`], any `embedded-storage-async` `NorFlash`, feature `async`).
//!
//! The store's logic is written once, as `async fn`s over a [`Device`]. The blocking store
//! runs them with [`block_on`]: a [`Blocking`] device never waits, so every future completes
//! on its first poll. The async store awaits them, so erases and programs yield to the
//! executor.
//!
//! The validator (shared with mount) reads through a synchronous [`crate::image`] source:
//! its reads run to completion ([`Device::read_now`]: a direct call on a blocking device; on
//! an async one, the read future polled until it is ready). NOR reads
//! are short and complete without another task's help (on embassy-rp, a DMA transfer), so on an
//! async device they busy-wait rather than yield.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Run `f` to completion by polling it; for futures that complete without being woken (all of
/// the blocking store's; an async device's reads).
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        core::hint::spin_loop();
    }
}

/// A NOR flash device, as the store's logic uses it.
pub(crate) trait Device {
    /// The device's error.
    type Error;
    /// `NorFlash::READ_SIZE`.
    const READ_SIZE: usize;
    /// `NorFlash::WRITE_SIZE`.
    const WRITE_SIZE: usize;
    /// `NorFlash::ERASE_SIZE`.
    const ERASE_SIZE: usize;
    /// Bytes of the device.
    fn capacity(&self) -> usize;
    /// Read `buf.len()` bytes at `offset` (aligned to `READ_SIZE`).
    async fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error>;
    /// Program `bytes` at `offset` (aligned to `WRITE_SIZE`).
    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error>;
    /// Erase the sectors of `from..to`.
    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error>;
    /// [`Device::read`], run to completion here (for the synchronous validator).
    fn read_now(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        block_on(self.read(offset, buf))
    }
}

/// An `embedded-storage` `NorFlash`: never waits.
#[derive(Debug)]
pub(crate) struct Blocking<F>(pub F);

impl<F: embedded_storage::nor_flash::NorFlash> Device for Blocking<F> {
    type Error = F::Error;
    const READ_SIZE: usize = F::READ_SIZE;
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
    async fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), F::Error> {
        self.0.read(offset, buf)
    }
    fn read_now(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), F::Error> {
        self.0.read(offset, buf)
    }
    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), F::Error> {
        self.0.write(offset, bytes)
    }
    async fn erase(&mut self, from: u32, to: u32) -> Result<(), F::Error> {
        self.0.erase(from, to)
    }
}

/// An `embedded-storage-async` `NorFlash`.
#[cfg(feature = "async")]
#[derive(Debug)]
pub(crate) struct Awaiting<F>(pub F);

#[cfg(feature = "async")]
impl<F: embedded_storage_async::nor_flash::NorFlash> Device for Awaiting<F> {
    type Error = F::Error;
    const READ_SIZE: usize = F::READ_SIZE;
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
    async fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), F::Error> {
        self.0.read(offset, buf).await
    }
    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), F::Error> {
        self.0.write(offset, bytes).await
    }
    async fn erase(&mut self, from: u32, to: u32) -> Result<(), F::Error> {
        self.0.erase(from, to).await
    }
}
