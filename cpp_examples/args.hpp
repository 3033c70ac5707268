// A tiny command-line reader shared by the C++ examples.
#pragma once

#include <disruptor_mp.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

class Args {
public:
    Args(int argc, char **argv) : args_(argv + 1, argv + argc) {}

    // The first argument if it is not an option.
    std::string positional(const char *what) {
        if (args_.empty() || args_[0].rfind("--", 0) == 0) {
            throw std::invalid_argument(std::string("missing ") + what);
        }
        std::string v = args_[0];
        args_.erase(args_.begin());
        return v;
    }

    bool flag(const std::string &name) {
        for (auto it = args_.begin(); it != args_.end(); ++it) {
            if (*it == name) {
                args_.erase(it);
                return true;
            }
        }
        return false;
    }

    // Every value of a repeatable option.
    std::vector<std::string> values(const std::string &name) {
        std::vector<std::string> out;
        for (auto it = args_.begin(); it != args_.end();) {
            if (*it == name) {
                if (it + 1 == args_.end()) {
                    throw std::invalid_argument(name + " needs a value");
                }
                out.push_back(*(it + 1));
                it = args_.erase(it, it + 2);
            } else {
                ++it;
            }
        }
        return out;
    }

    std::string text(const std::string &name, const std::string &fallback) {
        std::vector<std::string> v = values(name);
        return v.empty() ? fallback : v.back();
    }

    uint64_t number(const std::string &name, uint64_t fallback) {
        std::vector<std::string> v = values(name);
        if (v.empty()) {
            return fallback;
        }
        std::size_t used = 0;
        unsigned long long n = std::stoull(v.back(), &used);
        if (used != v.back().size()) {
            throw std::invalid_argument(name + ": not a number: " + v.back());
        }
        return n;
    }

    dmp::Wait wait(const std::string &fallback) {
        std::string w = text("--wait", fallback);
        if (w == "spin") return dmp::Wait::busy_spin;
        if (w == "yield") return dmp::Wait::yield;
        if (w == "sleep") return dmp::Wait::sleep;
        if (w == "block") return dmp::Wait::blocking;
        throw std::invalid_argument("--wait: expected spin, yield, sleep or block");
    }

    // Fails on anything left over.
    void done() const {
        if (!args_.empty()) {
            throw std::invalid_argument("unknown argument " + args_[0]);
        }
    }

private:
    std::vector<std::string> args_;
};
