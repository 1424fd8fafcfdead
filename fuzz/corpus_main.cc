// Runs every file of the given corpus directories through LLVMFuzzerTestOneInput once: this is
// how fuzz corpora (including kept crash reproducers) run as ordinary tests under GCC and ctest.
// With clang and -DLVS_FUZZ=ON the same sources link against libFuzzer instead (make fuzz).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i], ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++runs;
    }
    if (ec) {
      std::fprintf(stderr, "cannot read corpus %s: %s\n", argv[i], ec.message().c_str());
      return 1;
    }
  }
  if (runs == 0) {
    std::fprintf(stderr, "empty corpus\n");
    return 1;
  }
  std::printf("ran %zu inputs\n", runs);
  return 0;
}
