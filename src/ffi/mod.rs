//! The C ABI. Only argument checks, handles and status codes live here;
//! every call of the library runs inside [`boundary`](boundary::boundary)
//! (or `boundary_on`), which catches panics and records the error for
//! `dmp_last_error_message`. The one-event and claim/slot/publish,
//! wait/span/commit exports first take a fast path: the handle and
//! pointer checks without building an `Error`, the Rust call inside
//! `guarded` (the same `catch_unwind`, errors recorded out of line), and
//! only for a bad argument a cold slow path that names it. `dmp_claim`,
//! `dmp_producer_slot`, `dmp_publish`, `dmp_wait_for` and `dmp_commit`
//! answer their common case (no wait, nothing to flush, single producer,
//! required consumer) with no call at all and no panicking operation; a
//! wake-up they find due is a guarded call of its own.
//! `include/disruptor_mp.h` is generated from these files by cbindgen (see
//! tests/header.rs). One file per C type or concern; every public item is
//! re-exported here, so each is `disruptor_mp::ffi::NAME`.

#![allow(non_camel_case_types)]
// Exported functions take raw pointers by design: C callers promise they
// are valid or null (docs/C_API.md), and every one is null-checked here.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

// cbindgen reads the modules in the order they are declared, which is the
// order of the functions and constants in the header (and, through the
// functions that use them, of the structs): keep it. A comment before each
// declaration also keeps rustfmt from sorting them.

// `dmp_version`, `dmp_version_number`.
mod version;
// The `DMP_STATUS_*` codes, `dmp_status_str`, `dmp_last_error_message`.
mod status;
// What handle pointers point to, and how their kind is checked.
mod handle;
// The panic boundary and the checks of the pointers C passes in.
mod boundary;
// Copying one event between a caller's buffer and a slot.
mod copy;
// The option structs, the values of their fields, their conversion.
mod options;
// `dmp_ring_*`.
mod ring;
// `dmp_producer_*`, `dmp_claim`, `dmp_publish*`, `dmp_unclaim`.
mod producer;
// `dmp_consumer_*`, `dmp_wait_for`, `dmp_commit`, `dmp_consume_one`.
mod consumer;
// `dmp_span`, `dmp_producer_span`, `dmp_consumer_span`.
mod span;
// `dmp_snapshot_*` and the structs they fill in, `DMP_OWNER_*`.
mod snapshot;
// `dmp_consumer_wait_fd`, `dmp_consumer_arm`: wake-ups for event loops.
mod wake;

pub use consumer::*;
pub use options::*;
pub use producer::*;
pub use ring::*;
pub use snapshot::*;
pub use span::*;
pub use status::*;
pub use version::*;
pub use wake::*;
