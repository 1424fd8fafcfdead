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
  auto run_file = [&](const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    ++runs;
  };
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(argv[i], ec)) {  // a single reproducer
      run_file(argv[i]);
      continue;
    }
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i], ec)) {
      if (entry.is_regular_file()) run_file(entry.path());
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
