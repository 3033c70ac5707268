//! The exports with a fast path (`dmp_claim`, `dmp_producer_slot`,
//! `dmp_publish`, `dmp_publish_one`, `dmp_wait_for`, `dmp_consumer_slot`,
//! `dmp_consumer_span`, `dmp_producer_span`, `dmp_commit`,
//! `dmp_consume_one`) answer every misuse with the status and the message
//! they gave before they had one: each call below is recorded with its
//! status and `dmp_last_error_message` (the ring's path written `<ring>`),
//! and the transcript is compared with the one the library gave before
//! the fast paths (recorded from commit 9311e13 with this same file).
//! Also: what each one writes to its out-pointers on success, and the
//! size-versioned `dmp_span` written for older and newer struct sizes.

use disruptor_mp::ffi::*;
use std::ffi::{CStr, CString};
use std::fmt::Write as _;
use std::ptr::{null, null_mut};

const T: u64 = 1_000_000_000;

/// One ring in shared memory, unlinked at once, with its producer and a
/// consumer, through the C ABI.
struct Fixture {
    ring: *mut dmp_ring,
    p: *mut dmp_producer,
    c: *mut dmp_consumer,
    path: String,
    log: String,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let name = format!("dmp-ffi-fast-{tag}-{}", std::process::id());
        let cname = CString::new(name.clone()).unwrap();
        let mut o = std::mem::MaybeUninit::<dmp_ring_options>::uninit();
        dmp_ring_options_init(o.as_mut_ptr());
        // SAFETY: dmp_ring_options_init initialises every field.
        let mut o = unsafe { o.assume_init() };
        o.capacity = 8;
        o.slot_size = 16;
        o.layout = DMP_LAYOUT_PACKED;
        let mut ring = null_mut();
        assert_eq!(dmp_ring_create(cname.as_ptr(), &o, &mut ring), 0);
        let mut c = null_mut();
        let consumer = CString::new("c").unwrap();
        assert_eq!(
            dmp_consumer_open(ring, consumer.as_ptr(), null(), &mut c),
            0
        );
        let mut p = null_mut();
        assert_eq!(dmp_producer_open(ring, null(), &mut p), 0);
        assert_eq!(
            dmp_ring_remove(cname.as_ptr(), o.backing, DMP_REMOVE_FORCE),
            0
        );
        Fixture {
            ring,
            p,
            c,
            path: name,
            log: String::new(),
        }
    }

    /// Records `what` and its status, and its message unless it is OK.
    fn note(&mut self, what: &str, status: i32) -> i32 {
        write!(self.log, "{what}: {status}").unwrap();
        if status != DMP_STATUS_OK {
            // SAFETY: NUL-terminated, valid until the next call.
            let msg = unsafe { CStr::from_ptr(dmp_last_error_message()) };
            let msg = msg.to_string_lossy().replace(&self.path, "<ring>");
            // The path's directory differs between machines.
            let msg = match msg.find("<ring>") {
                Some(at) => {
                    let start = msg[..at].rfind(' ').map_or(0, |s| s + 1);
                    format!("{}{}", &msg[..start], &msg[at..])
                }
                None => msg,
            };
            write!(self.log, " {msg}").unwrap();
        }
        self.log.push('\n');
        status
    }

    /// Records a pointer-returning call: NULL (with the message) or not.
    fn note_ptr<T>(&mut self, what: &str, p: *const T) {
        if p.is_null() {
            self.note(what, -1000);
        } else {
            self.note(what, 0);
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = dmp_producer_close(self.p);
        let _ = dmp_consumer_close(self.c);
        let _ = dmp_ring_close(self.ring);
    }
}

fn span(size: u32) -> dmp_span {
    dmp_span {
        struct_size: size,
        reserved: 0,
        first: null_mut(),
        first_count: 0,
        second: null_mut(),
        second_count: 0,
        stride: 0,
    }
}

#[test]
fn misuse_answers_as_before() {
    let mut f = Fixture::new("misuse");
    let (p, c) = (f.p, f.c);
    let mut seq = 0i64;
    let mut s = span(std::mem::size_of::<dmp_span>() as u32);
    let ev = [7u8; 32];
    let mut buf = [0u8; 32];

    f.note("claim null", dmp_claim(null_mut(), 1, 0, &mut seq));
    f.note("claim null out", dmp_claim(p, 1, 0, null_mut()));
    f.note("claim 0", dmp_claim(p, 0, 0, &mut seq));
    f.note("claim 9", dmp_claim(p, 9, 0, &mut seq));
    f.note("claim kind", dmp_claim(c.cast(), 1, 0, &mut seq));
    f.note("publish null", dmp_publish(null_mut(), 0, 0));
    f.note("publish nothing claimed", dmp_publish(p, 0, 0));
    f.note_ptr("slot null", dmp_producer_slot(null_mut(), 0));
    f.note_ptr("slot unclaimed", dmp_producer_slot(p, 0));
    f.note("claim 2", dmp_claim(p, 2, 0, &mut seq));
    assert_eq!(seq, 0);
    f.note_ptr("slot 1", dmp_producer_slot(p, 1));
    f.note_ptr("slot 2", dmp_producer_slot(p, 2));
    f.note("pspan null out", dmp_producer_span(p, 0, 1, null_mut()));
    f.note("pspan 0..2", dmp_producer_span(p, 0, 2, &mut s));
    let mut bad = span(0);
    f.note("pspan size 0", dmp_producer_span(p, 0, 1, &mut bad));
    f.note("pspan ok", dmp_producer_span(p, 0, 1, &mut s));
    f.note(
        "publish_one claim outstanding",
        dmp_publish_one(p, ev.as_ptr().cast(), 8, 0, null_mut()),
    );
    f.note("publish skips", dmp_publish(p, 1, 1));
    f.note("publish past", dmp_publish(p, 0, 2));
    f.note_ptr("slot max", dmp_producer_slot(p, i64::MAX));
    f.note_ptr("slot min", dmp_producer_slot(p, i64::MIN));
    f.note("publish min..max", dmp_publish(p, i64::MIN, i64::MAX));
    f.note(
        "pspan min..max",
        dmp_producer_span(p, i64::MIN, i64::MAX, &mut s),
    );
    f.note("claim max", dmp_claim(p, u64::MAX, u64::MAX, &mut seq));
    f.note("publish 0..1", dmp_publish(p, 0, 1));
    f.note(
        "publish_one null",
        dmp_publish_one(null_mut(), ev.as_ptr().cast(), 8, 0, null_mut()),
    );
    f.note(
        "publish_one too long",
        dmp_publish_one(p, ev.as_ptr().cast(), 17, 0, null_mut()),
    );
    f.note(
        "publish_one null event",
        dmp_publish_one(p, null(), 8, 0, null_mut()),
    );
    f.note(
        "publish_one empty",
        dmp_publish_one(p, null(), 0, 0, &mut seq),
    );
    assert_eq!(seq, 2);
    f.note(
        "publish_one 16",
        dmp_publish_one(p, ev.as_ptr().cast(), 16, 0, &mut seq),
    );
    assert_eq!(seq, 3);

    f.note("wait_for null", dmp_wait_for(null_mut(), 0, 0, &mut seq));
    f.note("wait_for null out", dmp_wait_for(c, 0, 0, null_mut()));
    f.note("wait_for far", dmp_wait_for(c, 100, 0, &mut seq));
    f.note_ptr("cslot unavailable", dmp_consumer_slot(c, 0));
    f.note("wait_for 0", dmp_wait_for(c, 0, T, &mut seq));
    assert_eq!(seq, 3);
    f.note_ptr("cslot null", dmp_consumer_slot(null_mut(), 0));
    f.note_ptr("cslot 0", dmp_consumer_slot(c, 0));
    f.note_ptr("cslot 4", dmp_consumer_slot(c, 4));
    f.note("cspan null", dmp_consumer_span(null_mut(), 0, 1, &mut s));
    f.note("cspan null out", dmp_consumer_span(c, 0, 1, null_mut()));
    f.note("cspan 0..4", dmp_consumer_span(c, 0, 4, &mut s));
    f.note("cspan 2..1", dmp_consumer_span(c, 2, 1, &mut s));
    let mut bad = span(12);
    f.note("cspan size 12", dmp_consumer_span(c, 0, 1, &mut bad));
    let mut bad = span(8192);
    f.note("cspan size 8192", dmp_consumer_span(c, 0, 1, &mut bad));
    f.note(
        "cspan bad range, size 0",
        dmp_consumer_span(c, 2, 1, &mut span(0)),
    );
    f.note_ptr("cslot max", dmp_consumer_slot(c, i64::MAX));
    f.note_ptr("cslot min", dmp_consumer_slot(c, i64::MIN));
    f.note(
        "cspan min..max",
        dmp_consumer_span(c, i64::MIN, i64::MAX, &mut s),
    );
    f.note(
        "wait_for max",
        dmp_wait_for(c, i64::MAX, u64::MAX, &mut seq),
    );
    f.note("commit min", dmp_commit(c, i64::MIN));
    f.note("commit max", dmp_commit(c, i64::MAX));
    f.note("commit null", dmp_commit(null_mut(), 0));
    f.note("commit past", dmp_commit(c, 4));
    f.note("commit 0", dmp_commit(c, 0));
    f.note("commit back", dmp_commit(c, -1));
    f.note("commit again", dmp_commit(c, 0));
    f.note(
        "consume_one null",
        dmp_consume_one(null_mut(), buf.as_mut_ptr().cast(), 8, 0, null_mut()),
    );
    f.note(
        "consume_one too long",
        dmp_consume_one(c, buf.as_mut_ptr().cast(), 17, 0, null_mut()),
    );
    f.note(
        "consume_one null buf",
        dmp_consume_one(c, null_mut(), 8, 0, null_mut()),
    );
    f.note(
        "consume_one 1",
        dmp_consume_one(c, buf.as_mut_ptr().cast(), 8, 0, &mut seq),
    );
    assert_eq!(seq, 1);
    f.note(
        "consume_one empty",
        dmp_consume_one(c, null_mut(), 0, 0, &mut seq),
    );
    assert_eq!(seq, 2);
    f.note(
        "consume_one 3",
        dmp_consume_one(c, buf.as_mut_ptr().cast(), 16, 0, &mut seq),
    );
    assert_eq!((seq, &buf[..16]), (3, &[7u8; 16][..]));
    f.note(
        "consume_one empty ring",
        dmp_consume_one(c, buf.as_mut_ptr().cast(), 8, 0, &mut seq),
    );
    f.note(
        "consume_one timeout",
        dmp_consume_one(c, buf.as_mut_ptr().cast(), 8, 1_000_000, &mut seq),
    );
    f.note("wait_for would block", dmp_wait_for(c, 4, 0, &mut seq));

    // Closed handles stay detectable (the graveyard).
    let (ring, closed_p, closed_c) = (f.ring, f.p, f.c);
    assert_eq!(dmp_producer_close(closed_p), 0);
    assert_eq!(dmp_consumer_close(closed_c), 0);
    f.p = null_mut();
    f.c = null_mut();
    f.note("claim closed", dmp_claim(closed_p, 1, 0, &mut seq));
    f.note_ptr("slot closed", dmp_producer_slot(closed_p, 0));
    f.note("publish closed", dmp_publish(closed_p, 0, 0));
    f.note(
        "publish_one closed",
        dmp_publish_one(closed_p, ev.as_ptr().cast(), 8, 0, null_mut()),
    );
    f.note("pspan closed", dmp_producer_span(closed_p, 0, 0, &mut s));
    f.note("wait_for closed", dmp_wait_for(closed_c, 0, 0, &mut seq));
    f.note_ptr("cslot closed", dmp_consumer_slot(closed_c, 0));
    f.note("cspan closed", dmp_consumer_span(closed_c, 0, 0, &mut s));
    f.note("commit closed", dmp_commit(closed_c, 0));
    f.note(
        "consume_one closed",
        dmp_consume_one(closed_c, buf.as_mut_ptr().cast(), 8, 0, null_mut()),
    );
    f.note("commit ring", dmp_commit(ring.cast(), 0));
    let log = std::mem::take(&mut f.log);
    if let Ok(out) = std::env::var("DMP_FFI_FAST_TRANSCRIPT") {
        std::fs::write(out, &log).unwrap();
    }
    let expected = include_str!("ffi_fast_paths.txt");
    for (got, want) in log.lines().zip(expected.lines()) {
        assert_eq!(got, want);
    }
    assert_eq!(log.lines().count(), expected.lines().count());
}

#[test]
fn spans_are_written_for_every_struct_size() {
    let f = Fixture::new("span");
    let mut seq = 0i64;
    assert_eq!(dmp_claim(f.p, 8, T, &mut seq), 0);
    assert_eq!(dmp_publish(f.p, 0, 7), 0);
    assert_eq!(dmp_wait_for(f.c, 0, T, &mut seq), 0);
    assert_eq!(dmp_commit(f.c, 4), 0);
    assert_eq!(dmp_claim(f.p, 3, T, &mut seq), 0);
    assert_eq!(dmp_publish(f.p, 8, 10), 0);
    // Known available through 7: waiting for 8 reads the cursor again.
    assert_eq!(dmp_wait_for(f.c, 8, T, &mut seq), 0);
    assert_eq!(seq, 10);
    let size = std::mem::size_of::<dmp_span>();
    let mut full = span(size as u32);
    assert_eq!(dmp_consumer_span(f.c, 5, 10, &mut full), 0);
    assert_eq!(full.struct_size as usize, size);
    assert_eq!(
        (full.first_count, full.second_count, full.stride),
        (3, 3, 16)
    );
    assert!(!full.first.is_null() && !full.second.is_null());
    // A newer caller's larger struct: this version's part, and its size.
    #[repr(C)]
    struct Larger {
        span: dmp_span,
        extra: u64,
    }
    let mut larger = Larger {
        span: span(size as u32 + 8),
        extra: 0x5a5a,
    };
    assert_eq!(dmp_consumer_span(f.c, 5, 10, &mut larger.span), 0);
    assert_eq!(larger.span.struct_size as usize, size);
    assert_eq!(larger.span.first, full.first);
    assert_eq!(larger.extra, 0x5a5a);
    // An older caller's smaller struct: only its part is written.
    let mut older = [0u64; 4];
    older[0] = 24;
    older[3] = 0x77;
    assert_eq!(dmp_consumer_span(f.c, 5, 10, older.as_mut_ptr().cast()), 0);
    assert_eq!(older[0] as u32, 24);
    assert_eq!(older[1], full.first as u64);
    assert_eq!(older[2], 3);
    assert_eq!(older[3], 0x77);
}
