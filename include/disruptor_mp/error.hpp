// disruptor_mp/error.hpp: part of disruptor_mp.hpp (include that).
// dmp::Error and dmp::Evicted, timeouts as std::chrono durations, and the
// helpers that turn a C status into an exception.
#ifndef DISRUPTOR_MP_ERROR_HPP
#define DISRUPTOR_MP_ERROR_HPP

#include "../disruptor_mp.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if !(__cplusplus >= 201703L || (defined(_MSVC_LANG) && _MSVC_LANG >= 201703L))
#error "disruptor_mp.hpp needs C++17 or later"
#endif

namespace dmp {

/// A failed call: the status code (DMP_STATUS_*) and the library's message.
class Error : public std::runtime_error {
public:
    Error(int32_t status, const std::string &message) : std::runtime_error(message), status_(status) {}

    /// The DMP_STATUS_* code.
    int32_t status() const noexcept { return status_; }
    /// dmp_status_str() of the code: a short static description.
    const char *status_str() const noexcept { return dmp_status_str(status_); }
    /// Whether a bounded wait expired (DMP_STATUS_TIMEOUT).
    bool is_timeout() const noexcept { return status_ == DMP_STATUS_TIMEOUT; }

private:
    int32_t status_;
};

/// DMP_STATUS_EVICTED: this optional consumer was evicted. A batch read
/// since its last commit is void; Consumer::rejoin() goes on at the
/// current position.
class Evicted : public Error {
public:
    Evicted(const std::string &message, int64_t committed, uint64_t lost)
        : Error(DMP_STATUS_EVICTED, message), committed_(committed), lost_(lost) {}

    /// The consumer's committed sequence when it was evicted.
    int64_t committed() const noexcept { return committed_; }
    /// Events published after it that it will not see, as of the failing
    /// call (rejoin() reports the count as of the rejoin).
    uint64_t lost() const noexcept { return lost_; }

private:
    int64_t committed_;
    uint64_t lost_;
};

/// Timeouts are std::chrono durations; pass dmp::infinite to wait forever.
using Timeout = std::chrono::nanoseconds;
/// A timeout that never expires (DMP_TIMEOUT_INFINITE).
inline constexpr Timeout infinite = Timeout::max();

/// The library version, e.g. "0.1.0".
inline const char *version() noexcept { return dmp_version(); }
/// The library version as major * 10000 + minor * 100 + patch; compare it
/// with DMP_VERSION_NUMBER of the header compiled against.
inline uint32_t version_number() noexcept { return dmp_version_number(); }

namespace detail {

/// "CALL: status description: detail" (the detail names the ring and the
/// values; the description is left out when the detail says it already).
inline std::string describe(int32_t status, const char *call) {
    const char *detail = dmp_last_error_message();
    const std::string text = detail != nullptr ? detail : "";
    std::string message = call;
    if (text.find(dmp_status_str(status)) == std::string::npos) {
        message += ": ";
        message += dmp_status_str(status);
    }
    if (!text.empty()) {
        message += ": ";
        message += text;
    }
    return message;
}

/// The number after the first `key` at or after `from` in `text` (0 when
/// absent); `from` moves past it.
inline long long number_after(const std::string &text, const char *key, std::string::size_type &from) {
    const std::string::size_type at = text.find(key, from);
    if (at == std::string::npos) {
        return 0;
    }
    char *end = nullptr;
    const char *start = text.c_str() + at + std::char_traits<char>::length(key);
    const long long n = std::strtoll(start, &end, 10);
    from = static_cast<std::string::size_type>(end - text.c_str());
    return n;
}

[[noreturn]] inline void raise(int32_t status, const char *call) {
    std::string message = describe(status, call);
    if (status == DMP_STATUS_EVICTED) {
        // The library's message: "... was evicted after sequence C; L events
        // published since are lost to it; ..." (pinned by the wrapper test).
        std::string::size_type at = 0;
        const long long committed = number_after(message, "evicted after sequence ", at);
        const long long lost = at == 0 ? 0 : number_after(message, "; ", at);
        throw Evicted(message, committed, lost < 0 ? 0 : static_cast<uint64_t>(lost));
    }
    throw Error(status, message);
}

inline void check(int32_t status, const char *call) {
    if (status != DMP_STATUS_OK) {
        raise(status, call);
    }
}

inline uint64_t to_ns(Timeout t) noexcept {
    if (t == infinite) {
        return DMP_TIMEOUT_INFINITE;
    }
    return t.count() <= 0 ? 0 : static_cast<uint64_t>(t.count());
}

} // namespace detail
} // namespace dmp

#endif /* DISRUPTOR_MP_ERROR_HPP */
