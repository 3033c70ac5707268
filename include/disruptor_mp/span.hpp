// disruptor_mp/span.hpp: part of disruptor_mp.hpp (include that).
// Ranges over slots: SlotIterator (one C call per slot, for claims and
// batches) and Span<T> (a whole range's slots from one dmp_producer_span or
// dmp_consumer_span call: at most two runs of stride-spaced payloads).
#ifndef DISRUPTOR_MP_SPAN_HPP
#define DISRUPTOR_MP_SPAN_HPP

#include "error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>

namespace dmp {
namespace detail {

/// A random-access iterator over `Range` by index: `*it` is `range[i]`. It
/// holds a copy of the (small, view-like) range, so it outlives the range
/// object it came from (not the slots).
template <class Range, class Ref>
class IndexIterator {
public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::remove_cv_t<std::remove_reference_t<Ref>>;
    using difference_type = std::ptrdiff_t;
    using pointer = std::add_pointer_t<std::remove_reference_t<Ref>>;
    using reference = Ref;

    IndexIterator() noexcept = default;
    IndexIterator(const Range &r, std::size_t i) noexcept : r_(r), i_(static_cast<difference_type>(i)) {}

    reference operator*() const noexcept { return r_[static_cast<std::size_t>(i_)]; }
    pointer operator->() const noexcept { return &r_[static_cast<std::size_t>(i_)]; }
    reference operator[](difference_type n) const noexcept { return r_[static_cast<std::size_t>(i_ + n)]; }

    IndexIterator &operator++() noexcept { ++i_; return *this; }
    IndexIterator operator++(int) noexcept { IndexIterator t = *this; ++i_; return t; }
    IndexIterator &operator--() noexcept { --i_; return *this; }
    IndexIterator operator--(int) noexcept { IndexIterator t = *this; --i_; return t; }
    IndexIterator &operator+=(difference_type n) noexcept { i_ += n; return *this; }
    IndexIterator &operator-=(difference_type n) noexcept { i_ -= n; return *this; }
    friend IndexIterator operator+(IndexIterator i, difference_type n) noexcept { return i += n; }
    friend IndexIterator operator+(difference_type n, IndexIterator i) noexcept { return i += n; }
    friend IndexIterator operator-(IndexIterator i, difference_type n) noexcept { return i -= n; }
    friend difference_type operator-(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ - b.i_; }
    friend bool operator==(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ == b.i_; }
    friend bool operator!=(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ != b.i_; }
    friend bool operator<(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ < b.i_; }
    friend bool operator>(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ > b.i_; }
    friend bool operator<=(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ <= b.i_; }
    friend bool operator>=(const IndexIterator &a, const IndexIterator &b) noexcept { return a.i_ >= b.i_; }

private:
    Range r_{};
    difference_type i_ = 0;
};

/// Random-access iteration over the slots [first, first + count) of a
/// producer claim or a consumer batch. `Access::slot(handle, seq)` returns
/// the slot pointer (or throws).
template <class Handle, class Ref, class Access>
class SlotIterator {
public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::remove_cv_t<std::remove_reference_t<Ref>>;
    using difference_type = std::ptrdiff_t;
    using pointer = std::add_pointer_t<std::remove_reference_t<Ref>>;
    using reference = Ref;

    SlotIterator() noexcept = default;
    SlotIterator(Handle *h, int64_t seq) noexcept : h_(h), seq_(seq) {}

    reference operator*() const { return *static_cast<pointer>(Access::slot(h_, seq_)); }
    pointer operator->() const { return static_cast<pointer>(Access::slot(h_, seq_)); }
    reference operator[](difference_type n) const { return *(*this + n); }
    /// The sequence this iterator stands at.
    int64_t sequence() const noexcept { return seq_; }

    SlotIterator &operator++() noexcept { ++seq_; return *this; }
    SlotIterator operator++(int) noexcept { SlotIterator t = *this; ++seq_; return t; }
    SlotIterator &operator--() noexcept { --seq_; return *this; }
    SlotIterator operator--(int) noexcept { SlotIterator t = *this; --seq_; return t; }
    SlotIterator &operator+=(difference_type n) noexcept { seq_ += n; return *this; }
    SlotIterator &operator-=(difference_type n) noexcept { seq_ -= n; return *this; }
    friend SlotIterator operator+(SlotIterator i, difference_type n) noexcept { return i += n; }
    friend SlotIterator operator+(difference_type n, SlotIterator i) noexcept { return i += n; }
    friend SlotIterator operator-(SlotIterator i, difference_type n) noexcept { return i -= n; }
    friend difference_type operator-(const SlotIterator &a, const SlotIterator &b) noexcept {
        return static_cast<difference_type>(a.seq_ - b.seq_);
    }
    friend bool operator==(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ == b.seq_; }
    friend bool operator!=(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ != b.seq_; }
    friend bool operator<(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ < b.seq_; }
    friend bool operator>(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ > b.seq_; }
    friend bool operator<=(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ <= b.seq_; }
    friend bool operator>=(const SlotIterator &a, const SlotIterator &b) noexcept { return a.seq_ >= b.seq_; }

private:
    Handle *h_ = nullptr;
    int64_t seq_ = 0;
};

struct ProducerSlot {
    static void *slot(dmp_producer *p, int64_t seq) {
        void *s = dmp_producer_slot(p, seq);
        if (s == nullptr) {
            raise(DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_producer_slot");
        }
        return s;
    }
};

struct ConsumerSlot {
    static const void *slot(dmp_consumer *c, int64_t seq) {
        const void *s = dmp_consumer_slot(c, seq);
        if (s == nullptr) {
            raise(DMP_STATUS_SEQUENCE_OUT_OF_RANGE, "dmp_consumer_slot");
        }
        return s;
    }
};

} // namespace detail

/// One contiguous run of a Span: size() payloads of type T, stride() bytes
/// apart (the slot pitch of the ring), as a random-access range.
template <class T>
class Run {
    using Byte = std::conditional_t<std::is_const_v<T>, const unsigned char, unsigned char>;

public:
    using iterator = detail::IndexIterator<Run, T &>;

    Run() noexcept = default;
    Run(void *data, uint64_t count, uint64_t stride) noexcept
        : data_(static_cast<Byte *>(data)), count_(static_cast<std::size_t>(count)),
          stride_(static_cast<std::size_t>(stride)) {}

    /// The first payload (nullptr for an empty run).
    T *data() const noexcept { return reinterpret_cast<T *>(data_); }
    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    /// Bytes from one payload to the next.
    std::size_t stride() const noexcept { return stride_; }
    T &operator[](std::size_t i) const noexcept { return *reinterpret_cast<T *>(data_ + i * stride_); }
    iterator begin() const noexcept { return iterator(*this, 0); }
    iterator end() const noexcept { return iterator(*this, count_); }

private:
    Byte *data_ = nullptr;
    std::size_t count_ = 0;
    std::size_t stride_ = 0;
};

/// The slots of sequences [first_sequence(), last_sequence()] from one C
/// call, as a random-access range of T (const T for a consumer): the runs
/// before and after the wrap of the ring are runs()[0] and runs()[1]
/// (empty when the range does not wrap). Valid while the claim is
/// unpublished or the batch uncommitted, and the handle open.
template <class T>
class Span {
public:
    using iterator = detail::IndexIterator<Span, T &>;

    Span() noexcept = default;
    Span(const dmp_span &s, int64_t first_sequence) noexcept
        : runs_{Run<T>(s.first, s.first_count, s.stride), Run<T>(s.second, s.second_count, s.stride)},
          first_(first_sequence) {}

    int64_t first_sequence() const noexcept { return first_; }
    int64_t last_sequence() const noexcept { return first_ + static_cast<int64_t>(size()) - 1; }
    std::size_t size() const noexcept { return runs_[0].size() + runs_[1].size(); }
    bool empty() const noexcept { return size() == 0; }
    /// The contiguous runs, before and after the wrap.
    const std::array<Run<T>, 2> &runs() const noexcept { return runs_; }
    /// The payload of the i-th sequence of the span.
    T &operator[](std::size_t i) const noexcept {
        return i < runs_[0].size() ? runs_[0][i] : runs_[1][i - runs_[0].size()];
    }
    /// The payload of sequence `seq` (within the span).
    T &at_sequence(int64_t seq) const noexcept { return (*this)[static_cast<std::size_t>(seq - first_)]; }
    iterator begin() const noexcept { return iterator(*this, 0); }
    iterator end() const noexcept { return iterator(*this, size()); }

private:
    std::array<Run<T>, 2> runs_{};
    int64_t first_ = 0;
};

} // namespace dmp

#endif /* DISRUPTOR_MP_SPAN_HPP */
