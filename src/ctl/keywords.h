// Keywords keepalived knows but lvsd does not implement yet, per block, so they can be reported
// as "not yet supported" (or refused) instead of "unknown"; and spelling suggestions for unknown
// keywords. keepalived_rs_keywords() are the health checkers (and track_file).
#pragma once

#include <span>
#include <string_view>

namespace lvs::ctl {

std::span<const std::string_view> keepalived_top_keywords();
std::span<const std::string_view> keepalived_global_keywords();
std::span<const std::string_view> keepalived_vs_keywords();
std::span<const std::string_view> keepalived_rs_keywords();
// keepalived's lvs_schedulers[], to tell "not supported yet" from "unknown".
std::span<const std::string_view> keepalived_schedulers();

bool contains(std::span<const std::string_view> words, std::string_view w);

// The candidate closest to `word` when it is close enough to be a likely typo, else empty.
std::string_view closest_keyword(std::string_view word,
                                 std::span<const std::span<const std::string_view>> candidates);

}  // namespace lvs::ctl
