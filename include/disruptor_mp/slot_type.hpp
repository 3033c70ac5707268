// disruptor_mp/slot_type.hpp: part of disruptor_mp.hpp (include that).
// What an event type T must be to live in a ring's slots: checked at
// compile time (trivially copyable, at most 64-byte aligned) and, against
// a given ring, at run time (size and alignment).
#ifndef DISRUPTOR_MP_SLOT_TYPE_HPP
#define DISRUPTOR_MP_SLOT_TYPE_HPP

#include "error.hpp"

#include <cstddef>
#include <string>
#include <type_traits>

namespace dmp {
namespace detail {

/// Compile-time checks of a slot type; instantiating it fires them.
template <class T>
struct SlotType {
    static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                  "dmp: T must be an object type (wrap arrays in a struct)");
    static_assert(std::is_trivially_copyable_v<T>,
                  "dmp: events are copied between processes byte by byte: T must be trivially copyable");
    static_assert(alignof(T) <= 64, "dmp: slots are at most 64-byte aligned");
    static constexpr bool ok = true;
};

/// Checks that T can live in the slots of ring `ring_name` described by
/// `info`, for `call` (what the user called); throws otherwise, naming
/// the call, the ring, both values and what to do.
template <class T>
void check_slot_type(const dmp_ring_info &info, const char *call, const std::string &ring_name) {
    const std::string where = std::string(call) + " on ring \"" + ring_name + "\": ";
    if (sizeof(T) > info.slot_size) {
        throw Error(DMP_STATUS_INVALID_SLOT_SIZE,
                    where + "sizeof(T) is " + std::to_string(sizeof(T)) + " bytes, the ring's slot size is " +
                        std::to_string(info.slot_size) + " bytes: use an event type of at most " +
                        std::to_string(info.slot_size) + " bytes, or a ring created with slot_size(" +
                        std::to_string(sizeof(T)) + ") or more");
    }
    const std::size_t slot_align = info.layout == DMP_LAYOUT_PACKED ? 8 : 64;
    if (alignof(T) > slot_align) {
        throw Error(DMP_STATUS_LAYOUT_MISMATCH,
                    where + "alignof(T) is " + std::to_string(alignof(T)) + " bytes, the ring's slots are " +
                        std::to_string(slot_align) + "-byte aligned" +
                        (info.layout == DMP_LAYOUT_PACKED ? " (packed layout): use a stamped ring (64-byte slots)"
                                                          : "") +
                        " or an event type aligned to at most " + std::to_string(slot_align) + " bytes");
    }
}

} // namespace detail
} // namespace dmp

#endif /* DISRUPTOR_MP_SLOT_TYPE_HPP */
