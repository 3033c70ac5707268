//! `dmp_ring`: creating, opening, closing, unlinking and describing a ring.

use super::boundary::{boundary, boundary_on, options_out, out_ptr, required, write_versioned};
use super::handle::{close_handle, live, new_handle};
use super::options::{
    default_ring_options, dmp_ring_options, location, read_options, ring_options,
    DMP_LAYOUT_PACKED, DMP_LAYOUT_STAMPED, DMP_PRODUCER_MULTI, DMP_PRODUCER_SINGLE,
    DMP_REMOVE_FORCE,
};
use crate::error::Result;
use crate::region::Location;
use crate::ring::{Ring, RingOptions};
use crate::ProducerMode;
use std::ffi::c_char;

/// An open ring. Opaque; close with `dmp_ring_close`.
pub struct dmp_ring {
    _opaque: [u8; 0],
}

/// What `dmp_ring_info` reports.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dmp_ring_info {
    /// Set by the caller to `sizeof(dmp_ring_info)`.
    pub struct_size: u32,
    /// Payload bytes per slot.
    pub slot_size: u32,
    /// Number of slots.
    pub capacity: u64,
    /// Consumer-table entries.
    pub max_consumers: u32,
    /// `DMP_PRODUCER_SINGLE` or `DMP_PRODUCER_MULTI`.
    pub producer_mode: u32,
    /// Application event type id.
    pub type_id: u64,
    /// Whether wake-ups are on (1) or off (0).
    pub wakeups: u32,
    /// `DMP_LAYOUT_STAMPED` or `DMP_LAYOUT_PACKED`.
    pub layout: u32,
    /// Last published sequence (-1 before the first publish). In a
    /// multi-producer ring: the highest sequence up to which everything is
    /// published or abandoned.
    pub cursor: i64,
    /// Producer-table entries.
    pub max_producers: u32,
    /// Reserved (0).
    pub reserved: u32,
    /// The unblock timeout (multi-producer rings).
    pub unblock_timeout_ns: u64,
    /// Multi-producer rings: the highest claimed sequence (-1: none).
    pub claimed: i64,
    /// Multi-producer rings: sequences abandoned so far.
    pub abandoned: u64,
}

/// Initialises `options`: sets `struct_size` and leaves every layout field
/// 0, which means "default" when creating (4096 slots of 64 bytes, 16
/// consumers, mode 0600, stamped layout, wake-ups on) and "do not check"
/// when opening.
#[no_mangle]
pub extern "C" fn dmp_ring_options_init(options: *mut dmp_ring_options) {
    if let Ok(o) = options_out(options) {
        *o = default_ring_options();
    }
}

fn create_like(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
    f: impl FnOnce(&Location, &RingOptions) -> Result<Ring>,
) -> Result<()> {
    out_ptr(out, "out")?;
    let o = read_options(options, "dmp_ring_options")?.unwrap_or_else(default_ring_options);
    let loc = location(name, o.backing)?;
    let ring = f(&loc, &ring_options(&o)?)?;
    new_handle(ring, out)
}

/// Creates a ring; fails with `DMP_STATUS_ALREADY_EXISTS` if the name is
/// taken. `options` may be NULL (all defaults). On success `*out` receives
/// a handle to close with `dmp_ring_close`.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_create(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
) -> i32 {
    boundary(|| create_like(name, options, out, Ring::create))
}

/// Opens an existing ring, waiting up to `options->timeout_ns` for it to
/// appear; read-only (an observer) with `DMP_OPEN_READ_ONLY` in
/// `options->open_flags`, or when this process may read the segment but
/// not write it. Non-zero layout fields of `options` are checked against the
/// segment (`DMP_STATUS_LAYOUT_MISMATCH`, `DMP_STATUS_TYPE_MISMATCH`).
/// `options` may be NULL (no checks, no wait).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_open(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
) -> i32 {
    boundary(|| {
        let o = read_options(options, "dmp_ring_options")?.unwrap_or_else(default_ring_options);
        out_ptr(out, "out")?;
        let loc = location(name, o.backing)?;
        let ring = Ring::open(&loc, &ring_options(&o)?)?;
        new_handle(ring, out)
    })
}

/// Opens the ring if it exists (checking the non-zero layout fields of
/// `options`), creates it otherwise. `*out_created` (may be NULL) is set to
/// whether this call created it. With `DMP_OPEN_RECLAIM_STALE` in
/// `options->open_flags`, an existing ring that is stale (it was used, and
/// no live process holds any of its leases: every participant died or
/// left; a never-used ring is not stale) is unlinked, under its registry
/// lock, and created anew with these options (`*out_created` true).
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_open_or_create(
    name: *const c_char,
    options: *const dmp_ring_options,
    out: *mut *mut dmp_ring,
    out_created: *mut bool,
) -> i32 {
    boundary(|| {
        let mut created = false;
        create_like(name, options, out, |loc, o| {
            let (ring, c) = Ring::open_or_create(loc, o)?;
            created = c;
            Ok(ring)
        })?;
        // SAFETY: optional out-pointer; written only when non-null.
        if let Some(c) = unsafe { out_created.as_mut() } {
            *c = created;
        }
        Ok(())
    })
}

/// Closes a ring handle. Producers and consumers opened from it stay
/// usable. Closing NULL is a no-op; closing twice is
/// `DMP_STATUS_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn dmp_ring_close(ring: *mut dmp_ring) -> i32 {
    boundary(|| close_handle(ring))
}

/// Removes a ring's name (`backing` is `DMP_BACKING_SHM` or
/// `DMP_BACKING_FILE`): `dmp_ring_remove` without flags. Refuses a ring
/// with live participants (`DMP_STATUS_NAME_IN_USE`, naming them; this
/// process's own open producers and consumers count): close them first,
/// or use `dmp_ring_remove` with `DMP_REMOVE_FORCE`.
#[no_mangle]
pub extern "C" fn dmp_ring_unlink(name: *const c_char, backing: u32) -> i32 {
    dmp_ring_remove(name, backing, 0)
}

/// Removes a ring's name. Without `DMP_REMOVE_FORCE` in `flags`, refuses
/// (`DMP_STATUS_NAME_IN_USE`; the message names the ring and the live
/// participants' pids) while any live process holds a producer or consumer
/// lease of it, and a name that does not open as a ring; the check and the
/// removal are one step under the registry lock. With it, removes the name
/// anyway: processes that have the ring open keep working on the removed
/// segment until they exit. The same rule as `dmp rm` (and `--force`).
/// Unknown flag bits: `DMP_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_remove(name: *const c_char, backing: u32, flags: u32) -> i32 {
    boundary(|| {
        if flags & !DMP_REMOVE_FORCE != 0 {
            return Err(crate::error::Error::InvalidArgument(format!(
                "dmp_ring_remove: flags {flags:#x} has unknown bits {:#x} (known: DMP_REMOVE_FORCE 0x1)",
                flags & !DMP_REMOVE_FORCE
            )));
        }
        Ring::remove(&location(name, backing)?, flags & DMP_REMOVE_FORCE != 0).map(drop)
    })
}

/// Reports the ring's layout and cursor. Set `out->struct_size` first.
#[no_mangle]
#[must_use]
pub extern "C" fn dmp_ring_get_info(ring: *mut dmp_ring, out: *mut dmp_ring_info) -> i32 {
    boundary_on(ring, || {
        let r = live(ring)?;
        required(out, "out")?;
        let p = &r.layout().params;
        let info = dmp_ring_info {
            struct_size: 0,
            slot_size: p.slot_size as u32,
            capacity: p.capacity,
            max_consumers: p.max_consumers,
            producer_mode: match p.producer_mode {
                ProducerMode::Single => DMP_PRODUCER_SINGLE,
                ProducerMode::Multi => DMP_PRODUCER_MULTI,
            },
            type_id: p.type_id,
            wakeups: u32::from(p.wakeups()),
            layout: if p.packed() {
                DMP_LAYOUT_PACKED
            } else {
                DMP_LAYOUT_STAMPED
            },
            cursor: r.cursor(),
            max_producers: p.max_producers,
            reserved: 0,
            unblock_timeout_ns: p.unblock_timeout_ns,
            claimed: r.claimed(),
            abandoned: r.abandoned(),
        };
        write_versioned(out, info, "dmp_ring_info")
    })
}
