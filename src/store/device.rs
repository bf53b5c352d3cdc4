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
    /// The device bytes the CPU reads in place, if it can (memory-mapped flash): the device
    /// offset of the first one, and the bytes. Only borrowed from `&self`, so nothing
    /// programs or erases the device while they are read.
    fn mapped(&self) -> Option<(u32, &[u8])> {
        None
    }
}

/// The bytes of `range` (device offsets) where `flash` maps them, if it maps all of them.
pub(crate) fn mapped_range<D: Device>(flash: &D, range: core::ops::Range<u32>) -> Option<&[u8]> {
    let (base, bytes) = flash.mapped()?;
    let start = range.start.checked_sub(base)? as usize;
    let end = range.end.checked_sub(base)? as usize;
    bytes.get(start..end)
}

/// A function giving the bytes of a device's region as the CPU reads them (see
/// [`crate::store::Store::open_mapped`]).
pub(crate) type View<F> = fn(&F) -> &[u8];

/// An `embedded-storage` `NorFlash`: never waits; with the device offset of the store's region
/// and its [`View`] when the region is memory-mapped.
pub(crate) struct Blocking<F>(pub F, pub Option<(u32, View<F>)>);

impl<F: core::fmt::Debug> core::fmt::Debug for Blocking<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Blocking")
            .field("flash", &self.0)
            .field("mapped", &self.1.is_some())
            .finish()
    }
}

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
    fn mapped(&self) -> Option<(u32, &[u8])> {
        self.1.map(|(base, view)| (base, view(&self.0)))
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
