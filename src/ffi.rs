//! The C ABI (filled in next).
