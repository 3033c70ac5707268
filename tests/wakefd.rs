//! Wake-up fds between real processes, for each event-loop consumer (the
//! C and C++ epoll examples, the Python asyncio one) against `dmp
//! produce` (a Rust producer): paced and bursty, every event checked by
//! the consumer, wake-ups counted, the consumer's CPU time while idle
//! (wakefd/paced.rs); a producer killed while the consumer is armed, and
//! an armed consumer killed and restarted under its name
//! (wakefd/kills.rs).

mod support;

#[path = "wakefd/kills.rs"]
mod kills;
#[path = "wakefd/loops.rs"]
mod loops;
#[path = "wakefd/paced.rs"]
mod paced;
