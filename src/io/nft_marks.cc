// Reads the ruleset through libnftables, the library nft itself is built on: no process to
// spawn, no nft binary to find, and the listing is taken in the calling thread's namespace.
#include "io/nft_marks.h"

#include <nftables/libnftables.h>

#include <memory>

namespace lvs::io {

std::optional<MarkRules> read_nft_marks(std::string* err) {
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
  if (!ctx) {
    *err = "libnftables: cannot create a context";
    return std::nullopt;
  }
  // Stateless: counter values are of no use here and would make each listing differ.
  nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_STATELESS);
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    *err = "libnftables: cannot buffer output";
    return std::nullopt;
  }
  if (nft_run_cmd_from_buffer(ctx.get(), "list ruleset") != 0) {
    const char* msg = nft_ctx_get_error_buffer(ctx.get());
    *err = std::string("nft list ruleset: ") + (msg && *msg ? msg : "failed");
    while (!err->empty() && err->back() == '\n') err->pop_back();
    return std::nullopt;
  }
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  return compile_nft_json(out ? out : "");
}

}  // namespace lvs::io
