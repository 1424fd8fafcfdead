// The -R input reader's tokenizer, as config_stream_read(): words separated by space, tab, CR
// or LF; a word "ipvsadm" is dropped wherever it stands (so ipvsadm -S output with the program
// name still restores). Its '#' comment test looks at the separator, never at a word, so
// ipvsadm has no comments in practice: "#" is an ordinary word here too.
#include "adm/args.h"

namespace lvs::adm {

std::vector<std::string> split_restore_line(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    while (i < line.size() && sep(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !sep(line[i])) ++i;
    if (i > start) {
      std::string word(line.substr(start, i - start));
      if (word != "ipvsadm") out.push_back(std::move(word));
    }
  }
  return out;
}

}  // namespace lvs::adm
