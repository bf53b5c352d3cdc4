//! The library's internals, for tools, fuzzing and the crate's own tests (feature `unstable`).
//!
//! **No semver guarantee**: anything here may change or go in any release, and these items
//! expose the types of the crate's dependencies (zerocopy's little-endian integers in the
//! format's records, crc's digest). Stable code uses the crate's other modules only.
//!
//! | item | what it is |
//! |---|---|
//! | [`format`] | the on-flash records ([`format::BatchHeader`], [`format::CommitRecord`], …) and the map codecs |
//! | [`Source`], [`Mapped`], [`Reader`], [`scan_chain`], [`ChainIndex`] | the validator, over any source of region bytes |
//! | [`reseal_batch`] | recompute a batch's CRCs after editing it (for tests that corrupt images) |
//! | [`measure`], [`stream`], [`write_batch_to_vec`], [`BatchParams`], [`StreamError`] | the batch writer |
//! | [`ChunkList`] | the planner's append-only list |

pub use crate::classify::ChunkList;
/// The on-flash format: records, constants, the map codecs.
pub mod format {
    pub use crate::image::format::*;
}
pub use crate::image::read::{
    CHECKPOINT_BYTES, CHECKPOINT_OBJECTS, ChainIndex, Mapped, Reader, Source, reseal_batch,
    scan_chain,
};
pub use crate::image::write::{BatchParams, StreamError, measure, stream, write_batch_to_vec};
