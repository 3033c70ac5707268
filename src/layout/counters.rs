//! The counters region: `count(max_producers, max_consumers)` slots of
//! `SLOT` bytes. Slot `i` holds its value (u64) at offset 0, alone in its
//! cache line so only its writer owns it, and its description at
//! `META` (written once, at creation).

/// Bytes per counter slot.
pub const SLOT: u64 = 128;
/// Offset of the value (u64) inside a slot, alone in its cache line.
pub const VALUE: u64 = 0;
/// Offset of the description inside a slot.
pub const META: u64 = 64;
/// Description: counter id (u32).
pub const ID: u64 = META;
/// Description: owner kind (u32, `OWNER_*`).
pub const OWNER_KIND: u64 = META + 4;
/// Description: owner index (u32): the table entry, 0 for the ring.
pub const OWNER_INDEX: u64 = META + 8;
/// Description: label, NUL-padded ASCII.
pub const LABEL: u64 = META + 16;
/// Label field length.
pub const LABEL_LEN: usize = 48;

/// Owner kind: the ring.
pub const OWNER_RING: u32 = 0;
/// Owner kind: a producer-table entry.
pub const OWNER_PRODUCER: u32 = 1;
/// Owner kind: a consumer-table entry.
pub const OWNER_CONSUMER: u32 = 2;

/// Declares a group of counters once: an index per counter (its slot
/// order in the group, as a `usize` constant), and for each owner of
/// the group its table of (id, label) in slot order, ids counted from
/// the owner's first id. A table that leaves an index without a label
/// does not compile.
macro_rules! catalog {
    (
        $(#[$gm:meta])* $group:ident { $( $(#[$dm:meta])* $name:ident ),+ $(,)? }
        $( $(#[$tm:meta])* $table:ident from $base:literal { $( $key:ident => $label:literal ),+ $(,)? } )+
    ) => {
        $(#[$gm])*
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(usize)]
        pub enum $group { $( $(#[$dm])* $name ),+ }
        impl $group {
            /// Counters in the group.
            pub const COUNT: usize = [$($group::$name),+].len();
        }
        $( $(#[$dm])* pub const $name: usize = $group::$name as usize; )+
        $(
            $(#[$tm])*
            pub const $table: [(u32, &str); $group::COUNT] = {
                let mut t = [(u32::MAX, ""); $group::COUNT];
                $( t[$group::$key as usize] = ($base + $group::$key as u32, $label); )+
                let mut k = 0;
                while k < t.len() {
                    assert!(t[k].0 != u32::MAX, "a counter without a label");
                    k += 1;
                }
                t
            };
        )+
    };
}

catalog! {
    /// Ring-wide counters, in slot order.
    RingCounter {
        /// Index in [`RING`] of attaches.
        ATTACHES,
        /// Index in [`RING`] of detaches.
        DETACHES,
        /// Index in [`RING`] of the abandoned-sequences counter.
        ABANDONED,
        /// Index in [`RING`] of producer back-pressure waits.
        BACK_PRESSURE_WAITS,
        /// Index in [`RING`] of futex wake-ups.
        WAKEUPS,
        /// Index in [`RING`] of consumer evictions.
        EVICTIONS,
        /// Index in [`RING`] of stalled-consumer alerts.
        STALL_ALERTS,
    }
    /// Ring-wide counters (ids 0..): id and label, in slot order.
    RING from 0 {
        ATTACHES => "attaches",
        DETACHES => "detaches",
        ABANDONED => "abandoned sequences",
        BACK_PRESSURE_WAITS => "producer back-pressure waits",
        WAKEUPS => "futex wake-ups issued",
        EVICTIONS => "consumer evictions",
        STALL_ALERTS => "stalled-consumer alerts",
    }
}

catalog! {
    /// Per-participant counters (the same indices for producers and
    /// consumers), in slot order.
    EntryCounter {
        /// Events published or consumed.
        EVENTS,
        /// Batches published or consumed.
        BATCHES,
        /// Waits (claims that waited, waits for events).
        WAITS,
        /// Waits that timed out.
        TIMEOUTS,
        /// Last activity, ns since the Unix epoch.
        ACTIVITY,
    }
    /// Per producer entry: (id, label), in slot order.
    PRODUCER from 16 {
        EVENTS => "events published",
        BATCHES => "batches published",
        WAITS => "claims that waited",
        TIMEOUTS => "claim timeouts",
        ACTIVITY => "last activity (ns since epoch)",
    }
    /// Per consumer entry: (id, label), in slot order.
    CONSUMER from 32 {
        EVENTS => "events consumed",
        BATCHES => "batches consumed",
        WAITS => "waits",
        TIMEOUTS => "wait timeouts",
        ACTIVITY => "last activity (ns since epoch)",
    }
}

/// Slot of ring-wide counter `k` (its index in [`RING`]).
pub const fn ring_slot(k: usize) -> u64 {
    k as u64
}
/// Slot of producer entry `i`'s counter `k`.
pub const fn producer_slot(i: u32, k: usize) -> u64 {
    (RING.len() + i as usize * PRODUCER.len() + k) as u64
}
/// Slot of consumer entry `i`'s counter `k`.
pub const fn consumer_slot(max_producers: u32, i: u32, k: usize) -> u64 {
    (RING.len() + max_producers as usize * PRODUCER.len() + i as usize * CONSUMER.len() + k) as u64
}
/// Number of slots.
pub const fn count(max_producers: u32, max_consumers: u32) -> u64 {
    (RING.len() + max_producers as usize * PRODUCER.len() + max_consumers as usize * CONSUMER.len())
        as u64
}
