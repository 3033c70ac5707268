//! Unit-test fixture for the layers below `segment`: a zeroed, page-aligned
//! heap buffer seen as a [`Region`], so their algorithms run without a
//! mapping (layers from `segment` up use `segment::scratch`, a real one).

use super::Region;
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// A zeroed heap buffer of `len` bytes, freed on drop.
pub(crate) struct HeapRegion {
    ptr: NonNull<u8>,
    alloc: Layout,
}

impl HeapRegion {
    pub(crate) fn new(len: u64) -> HeapRegion {
        let alloc = Layout::from_size_align(len as usize, 4096).unwrap();
        // SAFETY: a non-zero size (every layout has a header) and a valid
        // power-of-two alignment.
        let ptr = NonNull::new(unsafe { alloc_zeroed(alloc) }).expect("allocation failed");
        HeapRegion { ptr, alloc }
    }

    /// The buffer as a region; valid while `self` lives.
    pub(crate) fn region(&self) -> Region {
        // SAFETY: the buffer is valid for reads and writes of its length,
        // page-aligned, and outlives every use in the tests that hold it.
        unsafe { Region::from_raw(self.ptr, self.alloc.size()) }
    }
}

impl Drop for HeapRegion {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.alloc) };
    }
}
