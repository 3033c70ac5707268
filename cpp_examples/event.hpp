// The event the C++ examples move: 64 bytes holding the pattern every
// example (and `dmp produce` / `dmp consume`, and the Python package) uses,
// so that any language can verify what another wrote: the event number in
// the first 8 bytes (native byte order), then byte k = (uint8_t)(i * 31 + k).
#pragma once

#include <cstddef>
#include <cstdint>

struct Event {
    uint64_t number;
    uint8_t pattern[56];
};
static_assert(sizeof(Event) == 64, "one 64-byte slot per event");

inline Event make_event(uint64_t i) {
    Event e{};
    e.number = i;
    for (std::size_t k = 8; k < sizeof(Event); k++) {
        e.pattern[k - 8] = static_cast<uint8_t>(static_cast<uint8_t>(i * 31u) + static_cast<uint8_t>(k));
    }
    return e;
}

// Whether `e` is an intact event (its pattern matches its number).
inline bool intact(const Event &e) {
    for (std::size_t k = 8; k < sizeof(Event); k++) {
        if (e.pattern[k - 8] != static_cast<uint8_t>(static_cast<uint8_t>(e.number * 31u) + static_cast<uint8_t>(k))) {
            return false;
        }
    }
    return true;
}
