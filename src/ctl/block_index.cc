#include "ctl/block_index.h"

#include <cstring>

namespace lvs::ctl {

uint64_t text_hash(std::string_view t) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ t.size();
  size_t i = 0;
  for (; i + 8 <= t.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, t.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  std::memcpy(&w, t.data() + i, t.size() - i);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  return h == 0 ? 1 : h;
}

std::string_view BlockIndex::head(std::string_view s) {
  const size_t end = s.find_first_of("{\n");
  return end == std::string_view::npos ? s : s.substr(0, end + 1);
}

BlockIndex::BlockIndex(const Config& running) : running_(running) {
  if (running.sources == nullptr) return;
  const TextStore& texts = *running.sources;
  next_.assign(running.services.size(), kNone);
  first_.reserve(running.services.size());
  for (size_t i = 0; i < running.services.size(); ++i) {
    const SourceSpan& sp = running.services[i].source;
    if (sp.length == 0 || sp.text >= texts.size() ||
        uint64_t(sp.offset) + sp.length > texts[sp.text].size()) {
      continue;
    }
    const std::string_view bytes(texts[sp.text].data() + sp.offset, sp.length);
    const auto [it, fresh] = first_.try_emplace(text_hash(head(bytes)), uint32_t(i));
    if (!fresh) {  // services whose blocks begin alike (TCP and UDP on one address): a chain
      next_[i] = it->second;
      it->second = uint32_t(i);
    }
  }
}

std::optional<BlockIndex::Found> BlockIndex::find(std::string_view rest) const {
  const auto it = first_.find(text_hash(head(rest)));
  if (it == first_.end()) return std::nullopt;
  const TextStore& texts = *running_.sources;
  for (uint32_t i = it->second; i != kNone; i = next_[i]) {
    const SourceSpan& sp = running_.services[i].source;
    if (sp.length <= rest.size() &&
        std::memcmp(texts[sp.text].data() + sp.offset, rest.data(), sp.length) == 0) {
      return Found{i, sp.length};
    }
  }
  return std::nullopt;
}

}  // namespace lvs::ctl
