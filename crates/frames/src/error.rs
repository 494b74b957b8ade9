//! Errors from setting up the allocator or from returning frames to it.

use core::fmt;

/// Why a frame operation was refused. Refused operations change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The address is not a multiple of the frame size.
    NotAligned(u64),
    /// The frame lies outside the span the allocator manages.
    OutOfRange(u64),
    /// The frame is free already (a double free, or a frame never handed out).
    NotAllocated(u64),
    /// The frame was never allocatable (outside the usable ranges, or reserved).
    NotUsable(u64),
    /// The bitmap slice is smaller than the span needs.
    BitmapTooSmall {
        /// Words needed for the span.
        needed: usize,
        /// Words provided.
        provided: usize,
    },
}

impl core::error::Error for FrameError {}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::NotAligned(a) => write!(f, "frame address {a:#x} is not 4 KiB aligned"),
            FrameError::OutOfRange(a) => write!(f, "frame {a:#x} is outside the managed span"),
            FrameError::NotAllocated(a) => write!(f, "frame {a:#x} freed but not allocated"),
            FrameError::NotUsable(a) => write!(f, "frame {a:#x} freed but never allocatable"),
            FrameError::BitmapTooSmall { needed, provided } => {
                write!(f, "bitmap needs {needed} words, got {provided}")
            }
        }
    }
}
