//! Profiling aid (not part of the build's tests): one thread moves events
//! through a single-producer packed ring with 8-byte slots, one event per
//! call, through the exported C functions, so that callgrind counts the
//! instructions of each export repeatably (`--toggle-collect=dmp_claim`
//! and so on, or the per-function totals of `callgrind_annotate`).
//! `callgrind_ffi {claim|one|rust-claim|rust-one} EVENTS [SLOT_SIZE]`
//! (8 by default; the events fill their slots): `claim` runs
//! `dmp_claim(1)`, `dmp_producer_slot`, `dmp_publish` per event and
//! `dmp_wait_for`, `dmp_consumer_span`, `dmp_commit` per event; `one` runs
//! `dmp_publish_one` and `dmp_consume_one`; the `rust-` modes run the same
//! loops through the Rust API (`claim`, `slot_mut`, `publish`, `wait_for`,
//! `slots`, `commit`; `publish_with`, `consume_with`), for the totals per
//! event. Events go in runs of 16: the producer publishes 16, then the
//! consumer reads them.
use disruptor_mp::ffi::*;
use std::ffi::CString;
use std::ptr::null_mut;

fn ok(what: &str, st: i32) {
    assert_eq!(st, DMP_STATUS_OK, "{what}");
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let events: u64 = a[2].parse().unwrap();
    let size: usize = a.get(3).map_or(8, |s| s.parse().unwrap());
    if let Some(mode) = a[1].strip_prefix("rust-") {
        return rust(mode == "one", events, size);
    }
    let one = a[1] == "one";
    let name = CString::new(format!("dmp-cg-ffi-{}", std::process::id())).unwrap();
    let mut o = std::mem::MaybeUninit::<dmp_ring_options>::uninit();
    dmp_ring_options_init(o.as_mut_ptr());
    // SAFETY: dmp_ring_options_init initialises every field.
    let mut o = unsafe { o.assume_init() };
    o.capacity = 4096;
    o.slot_size = size as u32;
    o.layout = DMP_LAYOUT_PACKED;
    let mut ring = null_mut();
    ok("create", dmp_ring_create(name.as_ptr(), &o, &mut ring));
    let mut c = null_mut();
    let cname = CString::new("c").unwrap();
    ok(
        "consumer",
        dmp_consumer_open(ring, cname.as_ptr(), std::ptr::null(), &mut c),
    );
    let mut p = null_mut();
    ok(
        "producer",
        dmp_producer_open(ring, std::ptr::null(), &mut p),
    );
    let t = 1_000_000_000;
    let mut sum = 0u64;
    let mut next = 0i64;
    let mut i = 0u64;
    while i < events {
        for k in 0..16u64 {
            let mut v = [0u8; 256];
            v[..8].copy_from_slice(&(i + k).to_le_bytes());
            if one {
                ok(
                    "publish_one",
                    dmp_publish_one(p, v.as_ptr().cast(), size, t, null_mut()),
                );
                continue;
            }
            let mut seq = 0;
            ok("claim", dmp_claim(p, 1, t, &mut seq));
            let slot = dmp_producer_slot(p, seq).cast::<u8>();
            assert!(!slot.is_null());
            // SAFETY: the claimed slot's `size`-byte payload.
            unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), slot, size) };
            ok("publish", dmp_publish(p, seq, seq));
        }
        for _ in 0..16 {
            let mut buf = [0u8; 256];
            if one {
                ok(
                    "consume_one",
                    dmp_consume_one(c, buf.as_mut_ptr().cast(), size, t, null_mut()),
                );
                sum = sum.wrapping_add(buf[0] as u64);
                continue;
            }
            let mut avail = 0;
            ok("wait_for", dmp_wait_for(c, next, t, &mut avail));
            let mut span = dmp_span {
                struct_size: std::mem::size_of::<dmp_span>() as u32,
                reserved: 0,
                first: null_mut(),
                first_count: 0,
                second: null_mut(),
                second_count: 0,
                stride: 0,
            };
            // One event per span and commit, as a consumer that keeps up.
            ok("span", dmp_consumer_span(c, next, next, &mut span));
            // SAFETY: the span's first payload is an available 8-byte event.
            sum = sum.wrapping_add(unsafe { *span.first.cast::<u8>() } as u64);
            ok("commit", dmp_commit(c, next));
            let _ = avail;
            next += 1;
        }
        i += 16;
    }
    ok("producer close", dmp_producer_close(p));
    ok("consumer close", dmp_consumer_close(c));
    ok("ring close", dmp_ring_close(ring));
    ok("unlink", dmp_ring_unlink(name.as_ptr(), o.backing));
    println!("{sum}");
}

/// The same loops through the Rust API.
fn rust(one: bool, events: u64, size: usize) {
    use disruptor_mp::{Location, Ring, RingOptions, WaitStrategy};
    let loc = Location::shm(format!("dmp-cg-ffi-rust-{}", std::process::id()));
    let options = RingOptions::new()
        .capacity(4096)
        .slot_size(size as u64)
        .packed(true);
    let ring = Ring::create(&loc, &options).unwrap();
    Ring::unlink(&loc).unwrap();
    let mut c = ring.consumer("c", &[], WaitStrategy::BusySpin).unwrap();
    let mut p = ring.producer(WaitStrategy::BusySpin).unwrap();
    let t = std::time::Duration::from_secs(1);
    let mut sum = 0u64;
    let mut i = 0u64;
    while i < events {
        for k in 0..16u64 {
            let mut v = [0u8; 256];
            v[..8].copy_from_slice(&(i + k).to_le_bytes());
            if one {
                p.publish_with(t, |s| s.copy_from_slice(&v[..size]))
                    .unwrap();
                continue;
            }
            let seq = p.claim(1, t).unwrap();
            p.slot_mut(seq).unwrap().copy_from_slice(&v[..size]);
            p.publish(seq, seq).unwrap();
        }
        for _ in 0..16 {
            if one {
                sum = c
                    .consume_with(t, |_, s| sum.wrapping_add(s[0] as u64))
                    .unwrap();
                continue;
            }
            let next = c.next_sequence();
            c.wait_for(next, t).unwrap();
            sum = sum.wrapping_add(c.slots(next, next).unwrap().0[0] as u64);
            c.commit(next).unwrap();
        }
        i += 16;
    }
    println!("{sum}");
}
