//! The verifiable payload of `dmp produce` and `dmp consume`: event numbers
//! per producer, and bytes derived from them.

/// Bits of an event number below the producer id: event numbers are
/// `producer_id << PRODUCER_SHIFT | n`, so consumers check the order of
/// each producer's events separately.
pub const PRODUCER_SHIFT: u32 = 48;

/// The payload of event number `i`: `i` in the first 8 bytes (native
/// order), then bytes derived from `i`.
pub fn fill_payload(i: u64, slot: &mut [u8]) {
    let n = slot.len().min(8);
    slot[..n].copy_from_slice(&i.to_ne_bytes()[..n]);
    for (k, b) in slot.iter_mut().enumerate().skip(8) {
        *b = (i.wrapping_mul(31) as u8).wrapping_add(k as u8);
    }
}

/// Checks a payload written by [`fill_payload`]; returns the event number.
pub fn check_payload(slot: &[u8]) -> Result<u64, String> {
    let mut head = [0u8; 8];
    let n = slot.len().min(8);
    head[..n].copy_from_slice(&slot[..n]);
    let i = u64::from_ne_bytes(head);
    for (k, b) in slot.iter().enumerate().skip(8) {
        let want = (i.wrapping_mul(31) as u8).wrapping_add(k as u8);
        if *b != want {
            return Err(format!(
                "event {i}: byte {k} is {b:#04x}, expected {want:#04x}"
            ));
        }
    }
    Ok(i)
}
