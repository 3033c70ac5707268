//! `c_abi_sequence`: the input is a program of C ABI calls on a small ring
//! with a unique shm name: create, open, close, producers, claims with any
//! `n`, publishes of any range, slots and spans, zero-timeout waits,
//! consumer slots, events, spans and commits, unclaims, snapshots, option
//! structs with any `struct_size` and fields, NULL pointers, and handles
//! used after close. Every status must be a valid code and never
//! `DMP_STATUS_PANIC` (a panic the boundary caught). Every pointer the
//! library hands out is written or read over its whole documented extent.
//!
//! The caller contract is kept: option structs live in buffers at least
//! `struct_size` bytes long (up to the library's 4096-byte limit), and
//! closed handles are used only within the input that closed them (the
//! library keeps the last 4096 closed handles to detect such use).

use super::{scratch_dir, unique, Input};
use disruptor_mp::ffi::*;
use disruptor_mp::Status;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};

/// Calls per input at most (the graveyard of closed handles is far larger).
const MAX_OPS: usize = 256;

/// A buffer for an extensible struct: 8-byte aligned, 4096 bytes plus room
/// for the largest struct, so any `struct_size` the library accepts is
/// backed by memory.
#[repr(C, align(8))]
struct Buf([u8; 4096 + 512]);

impl Buf {
    fn new() -> Box<Buf> {
        Box::new(Buf([0; 4096 + 512]))
    }

    /// Puts `value` at the start; `struct_size` is the true size unless the
    /// input chooses another (and maybe a non-zero tail).
    fn with<T: Copy>(&mut self, value: T, input: &mut Input) -> *mut T {
        self.0.fill(0);
        // SAFETY: the buffer is larger than any option struct and aligned
        // to 8, which is every struct's alignment.
        unsafe { std::ptr::write(self.0.as_mut_ptr() as *mut T, value) };
        let size = std::mem::size_of::<T>();
        match input.u8() % 8 {
            0 => {
                let s = input.pick(&[0u32, 4, 8, 12, 16, 24, 64, 4096, 4104, u32::MAX]);
                self.set_size(s);
            }
            1 => {
                let s = input.u32();
                self.set_size(s);
            }
            2 => {
                // A larger struct from a newer caller, maybe with a
                // non-zero tail the library does not know.
                let s = (size as u32 + 8 * u32::from(input.u8() % 4)).min(4096);
                self.set_size(s);
                let at = size + input.u8() as usize % 64;
                if at < self.0.len() {
                    self.0[at] = input.u8();
                }
            }
            _ => {}
        }
        self.0.as_mut_ptr() as *mut T
    }

    fn set_size(&mut self, s: u32) {
        self.0[..4].copy_from_slice(&s.to_ne_bytes());
    }
}

struct Producer {
    h: *mut dmp_producer,
    slot_size: usize,
}

struct Consumer {
    h: *mut dmp_consumer,
    slot_size: usize,
}

struct State {
    shm: CString,
    other_shm: CString,
    file: CString,
    rings: Vec<(*mut dmp_ring, usize)>,
    producers: Vec<Producer>,
    consumers: Vec<Consumer>,
    snapshots: Vec<*mut dmp_snapshot>,
    /// Sequences the library reported (claims, waits, next): bases for
    /// the sequences the program passes.
    seqs: Vec<i64>,
    buf: Box<Buf>,
}

/// A status must be a valid code and not a caught panic.
fn check(what: &str, st: i32) -> i32 {
    assert!(
        Status::from_code(st).is_some(),
        "{what} returned {st}, not a status code"
    );
    assert_ne!(st, DMP_STATUS_PANIC, "{what}: {}", last_error());
    st
}

/// After a NULL pointer result: the recorded error must not be a panic.
fn check_null(what: &str) {
    let m = last_error();
    assert!(!m.starts_with("internal panic"), "{what}: {m}");
}

fn last_error() -> String {
    // SAFETY: never NULL; valid until the next call on this thread.
    unsafe { CStr::from_ptr(dmp_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Picks from `items` or NULL (one chance in `len + 1`).
fn pick_handle<T>(input: &mut Input, items: &[T], f: impl Fn(&T) -> *mut u8) -> *mut u8 {
    let i = input.u8() as usize % (items.len() + 1);
    items.get(i).map_or(null_mut(), f)
}

impl State {
    fn ring(&self, input: &mut Input) -> *mut dmp_ring {
        pick_handle(input, &self.rings, |r| r.0 as *mut u8) as *mut dmp_ring
    }

    fn ring_slot_size(&self, r: *mut dmp_ring) -> usize {
        self.rings.iter().find(|x| x.0 == r).map_or(0, |x| x.1)
    }

    fn producer(&self, input: &mut Input) -> (*mut dmp_producer, usize) {
        let i = input.u8() as usize % (self.producers.len() + 1);
        self.producers
            .get(i)
            .map_or((null_mut(), 0), |p| (p.h, p.slot_size))
    }

    fn consumer(&self, input: &mut Input) -> (*mut dmp_consumer, usize) {
        let i = input.u8() as usize % (self.consumers.len() + 1);
        self.consumers
            .get(i)
            .map_or((null_mut(), 0), |c| (c.h, c.slot_size))
    }

    fn snapshot(&self, input: &mut Input) -> *mut dmp_snapshot {
        pick_handle(input, &self.snapshots, |s| *s as *mut u8) as *mut dmp_snapshot
    }

    /// A sequence: near one the library reported, a small one, an extreme
    /// one, or any.
    fn seq(&self, input: &mut Input) -> i64 {
        match input.u8() % 8 {
            0..=3 if !self.seqs.is_empty() => {
                let base = self.seqs[input.u8() as usize % self.seqs.len()];
                base.wrapping_add(i64::from(input.u8() as i8 % 8))
            }
            4 => input.pick(&[i64::MIN, i64::MIN + 1, -2, -1, i64::MAX - 1, i64::MAX]),
            5 => input.i64(),
            _ => i64::from(input.u8() as i8),
        }
    }

    fn note(&mut self, seq: i64) {
        if self.seqs.len() < 64 {
            self.seqs.push(seq);
        } else {
            let i = (seq as u64 % 64) as usize;
            self.seqs[i] = seq;
        }
    }

    /// A ring name and its backing: ours, a second one, a file, bad ones.
    fn name(&self, input: &mut Input) -> (CString, u32) {
        let shm = DMP_BACKING_SHM;
        match input.u8() % 12 {
            0..=5 => (self.shm.clone(), shm),
            6 => (self.other_shm.clone(), shm),
            7 => (self.file.clone(), DMP_BACKING_FILE),
            8 => (CString::default(), shm),
            9 => (c"a/b".into(), shm),
            10 => (CString::new("x".repeat(300)).unwrap(), shm),
            _ => (CString::new(vec![0xff, 0xfe]).unwrap(), input.u32()),
        }
    }

    fn ring_options(&mut self, input: &mut Input, backing: u32) -> *const dmp_ring_options {
        if input.u8() % 8 == 0 {
            return null();
        }
        let mut o = std::mem::MaybeUninit::<dmp_ring_options>::uninit();
        dmp_ring_options_init(o.as_mut_ptr());
        // SAFETY: initialised just above.
        let mut o = unsafe { o.assume_init() };
        o.backing = backing;
        let fields = input.u8();
        if fields & 1 != 0 {
            o.capacity = input.pick(&[
                0,
                1,
                2,
                3,
                4,
                8,
                16,
                1000,
                1 << 31,
                (1 << 31) + 1,
                1 << 32,
                u64::MAX,
            ]);
        } else {
            o.capacity = input.pick(&[1, 2, 4, 8]);
        }
        if fields & 2 != 0 {
            o.slot_size = input.pick(&[
                0,
                1,
                7,
                8,
                13,
                56,
                64,
                100,
                1 << 20,
                (1 << 20) + 1,
                u32::MAX,
            ]);
        } else {
            o.slot_size = input.pick(&[1, 8, 13, 64]);
        }
        // Keep valid rings small: a few slots of large events, or up to
        // 2^16 small ones, never more than a few MiB.
        if o.capacity.is_power_of_two()
            && o.capacity <= 1 << 31
            && (1..=1 << 20).contains(&o.slot_size)
            && o.capacity.saturating_mul(u64::from(o.slot_size) + 64) > 1 << 22
        {
            o.capacity = 4;
        }
        if fields & 4 != 0 {
            o.max_consumers = input.pick(&[0, 1, 2, 3, 64, 65, u32::MAX]);
            o.max_producers = input.pick(&[0, 1, 2, 3, 64, 65, u32::MAX]);
        } else {
            o.max_consumers = input.pick(&[0, 2, 3]);
        }
        o.producer_mode = input.pick(&[0, 0, 1, 2, 3, u32::MAX]);
        o.layout = input.pick(&[0, 0, 1, 2, 3]);
        o.wakeups = input.pick(&[0, 0, 1, 2, 3]);
        if fields & 8 != 0 {
            o.mode = input.pick(&[0, 0o600, 0o666, 0o400, 0o1777, u32::MAX]);
            o.type_id = input.pick(&[0, 1, 0x51, u64::MAX]);
            // An unknown open flag (where a non-zero reserved word was
            // once), which the library must refuse.
            o.open_flags = input.pick(&[0, 0, 0x80]);
            o.unblock_timeout_ns = input.pick(&[0, 1, 1_000_000, 3_600_000_000_000, u64::MAX]);
        }
        // Open waits this long for a missing ring: never more than 1 ms.
        o.timeout_ns = input.pick(&[0, 0, 1, 1_000_000]);
        self.buf.with(o, input)
    }

    fn wait_options<T: Copy>(
        &mut self,
        input: &mut Input,
        make: impl Fn(u32, u64) -> T,
    ) -> *const T {
        if input.u8() % 4 == 0 {
            return null();
        }
        let strategy = input.pick(&[0, 1, 2, 3, 4, u32::MAX]);
        let sleep = input.pick(&[0, 1, 50_000, 1_000_000_000, u64::MAX]);
        self.buf.with(make(strategy, sleep), input)
    }
}

fn consumer_name(input: &mut Input) -> CString {
    match input.u8() % 10 {
        0..=2 => c"a".into(),
        3 | 4 => c"b".into(),
        5 => c"c.d-e_f".into(),
        6 => CString::default(),
        7 => CString::new("n".repeat(64)).unwrap(),
        8 => c"with space".into(),
        _ => CString::new(vec![0xc3, 0x28]).unwrap(),
    }
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let file = scratch_dir().join(unique("abi-file"));
    let mut st = State {
        shm: CString::new(unique("abi")).unwrap(),
        other_shm: CString::new(unique("abi-other")).unwrap(),
        file: CString::new(file.to_str().unwrap()).unwrap(),
        rings: Vec::new(),
        producers: Vec::new(),
        consumers: Vec::new(),
        snapshots: Vec::new(),
        seqs: Vec::new(),
        buf: Buf::new(),
    };
    // Start from a valid small ring of the layout and mode the first byte
    // chooses, so most programs exercise a working ring.
    let first = input.u8();
    let mut o = std::mem::MaybeUninit::<dmp_ring_options>::uninit();
    dmp_ring_options_init(o.as_mut_ptr());
    // SAFETY: initialised just above.
    let mut o = unsafe { o.assume_init() };
    o.capacity = [1, 2, 4, 8][usize::from(first & 3)];
    o.slot_size = [8, 1, 13, 64][usize::from((first >> 2) & 3)];
    o.layout = if first & 16 != 0 {
        DMP_LAYOUT_PACKED
    } else {
        DMP_LAYOUT_STAMPED
    };
    o.producer_mode = if first & 32 != 0 {
        DMP_PRODUCER_MULTI
    } else {
        DMP_PRODUCER_SINGLE
    };
    o.max_producers = if first & 32 != 0 { 2 } else { 0 };
    o.wakeups = if first & 64 != 0 {
        DMP_WAKEUPS_OFF
    } else {
        DMP_WAKEUPS_ON
    };
    o.max_consumers = 3;
    o.unblock_timeout_ns = if first & 128 != 0 { 1_000_000 } else { 0 };
    let mut r = null_mut();
    if check(
        "dmp_ring_create",
        dmp_ring_create(st.shm.as_ptr(), &o, &mut r),
    ) == DMP_STATUS_OK
    {
        st.rings.push((r, o.slot_size as usize));
    }

    let mut ops = 0;
    while !input.is_empty() && ops < MAX_OPS {
        ops += 1;
        step(&mut st, &mut input);
    }

    // Close everything (closed handles answer INVALID_HANDLE), then remove
    // the names.
    for c in &st.consumers {
        check("dmp_consumer_close", dmp_consumer_close(c.h));
    }
    for p in &st.producers {
        check("dmp_producer_close", dmp_producer_close(p.h));
    }
    for s in &st.snapshots {
        check("dmp_snapshot_free", dmp_snapshot_free(*s));
    }
    for r in &st.rings {
        check("dmp_ring_close", dmp_ring_close(r.0));
    }
    for name in [&st.shm, &st.other_shm] {
        check(
            "dmp_ring_unlink",
            dmp_ring_unlink(name.as_ptr(), DMP_BACKING_SHM),
        );
    }
    let _ = std::fs::remove_file(&file);
}

fn step(st: &mut State, input: &mut Input) {
    match input.u8() % 27 {
        0..=2 => {
            let op = input.u8() % 3;
            let (name, backing) = st.name(input);
            let o = st.ring_options(input, backing);
            let mut r: *mut dmp_ring = null_mut();
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut r as *mut _
            };
            let mut created = false;
            let rc = match op {
                0 => check("dmp_ring_create", dmp_ring_create(name.as_ptr(), o, out)),
                1 => check("dmp_ring_open", dmp_ring_open(name.as_ptr(), o, out)),
                _ => check(
                    "dmp_ring_open_or_create",
                    dmp_ring_open_or_create(name.as_ptr(), o, out, &mut created),
                ),
            };
            if rc == DMP_STATUS_OK {
                assert!(!r.is_null());
                // An opened ring's slot size is what the segment says.
                let mut info = std::mem::MaybeUninit::<dmp_ring_info>::zeroed();
                // SAFETY: zeroed then sized; the library fills it.
                let info = unsafe {
                    (*info.as_mut_ptr()).struct_size = std::mem::size_of::<dmp_ring_info>() as u32;
                    check("dmp_ring_get_info", dmp_ring_get_info(r, info.as_mut_ptr()));
                    info.assume_init()
                };
                assert!(info.slot_size >= 1, "a ring with slot size 0");
                st.rings.push((r, info.slot_size as usize));
            }
        }
        3 => {
            let r = st.ring(input);
            check("dmp_ring_close", dmp_ring_close(r));
        }
        4 => {
            let r = st.ring(input);
            // The readiness gate, sometimes, with a short bound.
            let ready = u32::from(input.u8() % 4 == 0);
            let o = st.wait_options(input, |w, s| dmp_producer_options {
                struct_size: std::mem::size_of::<dmp_producer_options>() as u32,
                wait_strategy: w,
                sleep_ns: s,
                consumer_dead_timeout_ns: 1_000_000,
                progress_timeout_ns: 0,
                stall_grace_ns: 0,
                ready_consumers: ready,
                reserved: 0,
                ready_names: null(),
                ready_name_count: 0,
                ready_timeout_ns: 1_000_000,
                on_stall: None,
                on_stall_user: null_mut(),
            });
            let mut p = null_mut();
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut p as *mut _
            };
            if check("dmp_producer_open", dmp_producer_open(r, o, out)) == DMP_STATUS_OK {
                let slot_size = st.ring_slot_size(r);
                st.producers.push(Producer { h: p, slot_size });
            }
        }
        5 => {
            let (p, _) = st.producer(input);
            check("dmp_producer_close", dmp_producer_close(p));
        }
        6 | 7 => {
            let try_ = input.u8() & 1 == 0;
            let (p, _) = st.producer(input);
            let n = match input.u8() % 4 {
                0 => input.u64(),
                1 => input.pick(&[0, u64::MAX, 1 << 31, (1 << 63) + 1]),
                _ => u64::from(input.u8() % 10),
            };
            let mut first = 0i64;
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut first as *mut _
            };
            let rc = if try_ {
                check("dmp_try_claim", dmp_try_claim(p, n, out))
            } else {
                let t = input.pick(&[0, 0, 0, 1000]);
                check("dmp_claim", dmp_claim(p, n, t, out))
            };
            if rc == DMP_STATUS_OK {
                st.note(first);
                st.note(first.wrapping_add(n as i64 - 1));
            }
        }
        8 | 9 => {
            let (p, _) = st.producer(input);
            let lo = st.seq(input);
            let hi = if input.u8() % 2 == 0 {
                lo.wrapping_add(i64::from(input.u8() % 4))
            } else {
                st.seq(input)
            };
            check("dmp_publish", dmp_publish(p, lo, hi));
        }
        10 => {
            let (p, slot_size) = st.producer(input);
            let seq = st.seq(input);
            let slot = dmp_producer_slot(p, seq);
            if slot.is_null() {
                check_null("dmp_producer_slot");
            } else {
                assert_eq!(slot as usize % 8, 0, "slot not 8-byte aligned");
                // SAFETY: the library promises slot_size writable bytes.
                unsafe { std::ptr::write_bytes(slot as *mut u8, 0x5a, slot_size) };
            }
        }
        11 => {
            let (p, slot_size) = st.producer(input);
            let lo = st.seq(input);
            let hi = lo.wrapping_add(i64::from(input.u8() % 10) - 1);
            let span = span_buf(st, input);
            if check("dmp_producer_span", dmp_producer_span(p, lo, hi, span)) == DMP_STATUS_OK {
                // SAFETY: filled by the library; its pointers cover
                // (first_count + second_count) payloads of slot_size bytes.
                unsafe { walk_span(span, slot_size, lo, hi, true) };
            }
        }
        12 => {
            let (p, _) = st.producer(input);
            let from = st.seq(input);
            check("dmp_unclaim", dmp_unclaim(p, from));
        }
        13 | 14 => consumer_open(st, input),
        15 => {
            let (c, _) = st.consumer(input);
            check("dmp_consumer_close", dmp_consumer_close(c));
        }
        16 | 17 => {
            let (c, _) = st.consumer(input);
            let seq = st.seq(input);
            let mut avail = 0i64;
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut avail as *mut _
            };
            if check("dmp_wait_for", dmp_wait_for(c, seq, 0, out)) == DMP_STATUS_OK {
                assert!(avail >= seq, "wait_for({seq}) answered {avail}");
                st.note(avail);
            }
        }
        18 => {
            let (c, slot_size) = st.consumer(input);
            let seq = st.seq(input);
            let slot = dmp_consumer_slot(c, seq);
            if slot.is_null() {
                check_null("dmp_consumer_slot");
            } else {
                // SAFETY: the library promises slot_size readable bytes.
                let b = unsafe { std::slice::from_raw_parts(slot as *const u8, slot_size) };
                std::hint::black_box(b.iter().fold(0u8, |a, x| a ^ x));
            }
        }
        19 => {
            let (c, slot_size) = st.consumer(input);
            let seq = st.seq(input);
            let mut payload: *const c_void = 1 as *const c_void;
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut payload as *mut _
            };
            let rc = check("dmp_consumer_event", dmp_consumer_event(c, seq, out));
            if rc == DMP_STATUS_OK {
                assert!(!payload.is_null());
                // SAFETY: the library promises slot_size readable bytes.
                let b = unsafe { std::slice::from_raw_parts(payload as *const u8, slot_size) };
                std::hint::black_box(b.iter().fold(0u8, |a, x| a ^ x));
            } else if !out.is_null() && !c.is_null() {
                assert!(
                    payload.is_null() || rc == DMP_STATUS_INVALID_HANDLE,
                    "{rc}: payload not NULL"
                );
            }
        }
        20 => {
            let (c, slot_size) = st.consumer(input);
            let lo = st.seq(input);
            let hi = lo.wrapping_add(i64::from(input.u8() % 10) - 1);
            let span = span_buf(st, input);
            if check("dmp_consumer_span", dmp_consumer_span(c, lo, hi, span)) == DMP_STATUS_OK {
                // SAFETY: as for the producer span, read only.
                unsafe { walk_span(span, slot_size, lo, hi, false) };
            }
        }
        21 => {
            let (c, _) = st.consumer(input);
            let seq = st.seq(input);
            check("dmp_commit", dmp_commit(c, seq));
        }
        22 => {
            let (c, _) = st.consumer(input);
            let mut next = 0i64;
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut next as *mut _
            };
            if check("dmp_consumer_next", dmp_consumer_next(c, out)) == DMP_STATUS_OK {
                st.note(next);
            }
        }
        23 => {
            let r = st.ring(input);
            let mut s = null_mut();
            let out = if input.u8() % 16 == 0 {
                null_mut()
            } else {
                &mut s as *mut _
            };
            if check("dmp_snapshot_take", dmp_snapshot_take(r, out)) == DMP_STATUS_OK {
                st.snapshots.push(s);
            }
        }
        24 => snapshot_read(st, input),
        25 => {
            let s = st.snapshot(input);
            check("dmp_snapshot_free", dmp_snapshot_free(s));
        }
        _ => match input.u8() % 4 {
            0 => {
                let r = st.ring(input);
                let zero = std::mem::MaybeUninit::<dmp_ring_info>::zeroed();
                // SAFETY: an all-zero dmp_ring_info is valid.
                let info = unsafe { zero.assume_init() };
                let p = st.buf.with(info, input);
                let out = if input.u8() % 16 == 0 { null_mut() } else { p };
                check("dmp_ring_get_info", dmp_ring_get_info(r, out));
            }
            1 => {
                let code = input.u32() as i32;
                // SAFETY: never NULL, static.
                let s = unsafe { CStr::from_ptr(dmp_status_str(code)) };
                assert!(!s.to_bytes().is_empty());
                let _ = last_error();
            }
            2 => {
                let (name, backing) = st.name(input);
                let _ = check("dmp_ring_unlink", dmp_ring_unlink(name.as_ptr(), backing));
            }
            _ => {
                // SAFETY: static strings.
                let v = unsafe { CStr::from_ptr(dmp_version()) };
                assert!(!v.to_bytes().is_empty() && dmp_version_number() > 0);
            }
        },
    }
}

fn consumer_open(st: &mut State, input: &mut Input) {
    let r = st.ring(input);
    let name = consumer_name(input);
    let name_ptr = if input.u8() % 16 == 0 {
        null()
    } else {
        name.as_ptr()
    };
    let deps: Vec<CString> = (0..input.u8() % 4).map(|_| consumer_name(input)).collect();
    let dep_ptrs: Vec<*const c_char> = deps.iter().map(|d| d.as_ptr()).collect();
    // A count the array backs, or one the library must refuse unread.
    let (ptr, count) = match input.u8() % 8 {
        0 => (null(), dep_ptrs.len()),
        1 => (dep_ptrs.as_ptr(), input.pick(&[65, usize::MAX])),
        2 => (null(), input.pick(&[65, usize::MAX])),
        _ => (dep_ptrs.as_ptr(), dep_ptrs.len()),
    };
    // Required, optional, or an invalid flag the library must refuse.
    let optional = input.pick(&[0, 0, 1, 2]);
    let o = st.wait_options(input, |w, s| dmp_consumer_options {
        struct_size: std::mem::size_of::<dmp_consumer_options>() as u32,
        wait_strategy: w,
        sleep_ns: s,
        dependencies: ptr,
        dependency_count: count,
        optional,
        join_flags: 0,
        max_block_ns: 0,
    });
    let mut c = null_mut();
    let out = if input.u8() % 16 == 0 {
        null_mut()
    } else {
        &mut c as *mut _
    };
    if check("dmp_consumer_open", dmp_consumer_open(r, name_ptr, o, out)) == DMP_STATUS_OK {
        let slot_size = st.ring_slot_size(r);
        st.consumers.push(Consumer { h: c, slot_size });
    }
}

fn span_buf(st: &mut State, input: &mut Input) -> *mut dmp_span {
    let zero = std::mem::MaybeUninit::<dmp_span>::zeroed();
    // SAFETY: an all-zero dmp_span (null pointers, zero counts) is valid.
    let span = unsafe { zero.assume_init() };
    let p = st.buf.with(span, input);
    if input.u8() % 16 == 0 {
        null_mut()
    } else {
        p
    }
}

/// Walks a span the library filled: every payload of `[lo, hi]` is
/// written (producer) or read (consumer) over `slot_size` bytes.
///
/// # Safety
/// `span` points to a span the library just filled for `[lo, hi]`.
unsafe fn walk_span(span: *mut dmp_span, slot_size: usize, lo: i64, hi: i64, write: bool) {
    // SAFETY: the caller's buffer holds at least the struct_size the
    // library wrote back, and the library writes only the known prefix.
    let size = unsafe { std::ptr::read(span as *const u32) } as usize;
    if size < std::mem::size_of::<dmp_span>() {
        return; // an older caller: the counts were not all written back
    }
    // SAFETY: as above, the whole struct is there.
    let s = unsafe { std::ptr::read(span) };
    let n = hi.wrapping_sub(lo).wrapping_add(1) as u64;
    assert_eq!(s.first_count + s.second_count, n, "span of [{lo}, {hi}]");
    assert!(s.stride as usize >= slot_size);
    for (base, count) in [(s.first, s.first_count), (s.second, s.second_count)] {
        if count == 0 {
            continue;
        }
        assert!(!base.is_null());
        for k in 0..count as usize {
            // SAFETY: the library promises `count` payloads `stride` apart.
            let p = unsafe { (base as *mut u8).add(k * s.stride as usize) };
            if write {
                // SAFETY: as above, writable for a producer span.
                unsafe { std::ptr::write_bytes(p, 0x3c, slot_size) };
            } else {
                // SAFETY: as above, readable.
                let b = unsafe { std::slice::from_raw_parts(p, slot_size) };
                std::hint::black_box(b.iter().fold(0u8, |a, x| a ^ x));
            }
        }
    }
}

fn snapshot_read(st: &mut State, input: &mut Input) {
    let s = st.snapshot(input);
    let i = match input.u8() % 4 {
        0 => input.u64() as usize,
        _ => usize::from(input.u8() % 24),
    };
    let null_out = input.u8() % 16 == 0;
    // SAFETY (all four): all-zero values of these plain structs are valid.
    match input.u8() % 4 {
        0 => {
            let v: dmp_ring_stats = unsafe { std::mem::zeroed() };
            let p = st.buf.with(v, input);
            let p = if null_out { null_mut() } else { p };
            check("dmp_snapshot_stats", dmp_snapshot_stats(s, p));
        }
        1 => {
            let v: dmp_consumer_status = unsafe { std::mem::zeroed() };
            let p = st.buf.with(v, input);
            let p = if null_out { null_mut() } else { p };
            check("dmp_snapshot_consumer", dmp_snapshot_consumer(s, i, p));
        }
        2 => {
            let v: dmp_producer_status = unsafe { std::mem::zeroed() };
            let p = st.buf.with(v, input);
            let p = if null_out { null_mut() } else { p };
            check("dmp_snapshot_producer", dmp_snapshot_producer(s, i, p));
        }
        _ => {
            let v: dmp_counter = unsafe { std::mem::zeroed() };
            let p = st.buf.with(v, input);
            let p = if null_out { null_mut() } else { p };
            check("dmp_snapshot_counter", dmp_snapshot_counter(s, i, p));
        }
    }
}
