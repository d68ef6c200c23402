// `ember detokenize`: token ids -> text with the model's tokenizer.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "engine/tokenizer_loader.h"

namespace ember::app {

int cmd_detokenize(int argc, char** argv) {
  CliArgs args("detokenize", "Prints the text that token ids decode to (bytes that are not UTF-8 become U+FFFD).");
  args.positional("MODEL", "model directory (tokenizer.json is enough) or .gguf file");
  args.positional("IDS", "token ids, separated by spaces or commas", true, true);
  args.flag("skip-special", "leave special tokens out, like skip_special_tokens=True");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  auto mt = engine::load_model_tokenizer(args.positional_at(0));
  if (!mt.ok()) return report_error("detokenize", mt.status().to_string().c_str());
  const tokenizer::Tokenizer& tok = *mt->tokenizer;
  std::vector<int32_t> ids;
  for (size_t i = 1; i < args.positionals().size(); ++i) {
    std::string words = args.positional_at(i);
    for (char& c : words)
      if (c == ',') c = ' ';
    size_t pos = 0;
    while (pos < words.size()) {
      const size_t b = words.find_first_not_of(' ', pos);
      if (b == std::string::npos) break;
      const size_t e = std::min(words.find(' ', b), words.size());
      const std::string w = words.substr(b, e - b);
      char* end = nullptr;
      const long long v = std::strtoll(w.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v >= tok.vocab_size() || !tok.id_to_token(static_cast<int32_t>(v)))
        return report_error("detokenize", ("'" + w + "' is not a token id of this tokenizer (0.." +
                                           std::to_string(tok.vocab_size() - 1) + ")").c_str());
      ids.push_back(static_cast<int32_t>(v));
      pos = e;
    }
  }
  const std::string text = tok.decode(ids, args.has("skip-special"));
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace ember::app
