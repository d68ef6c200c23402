// `ember eval`: logits of token sequences, for checking numerics against
// other implementations (each sequence alone, from an empty cache).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_flags.h"
#include "engine/single_sequence.h"

namespace ember::app {
namespace {

Result<std::vector<std::vector<int32_t>>> read_token_file(const std::string& path, int64_t vocab) {
  std::ifstream in(path);
  if (!in) return io_error(path + ": cannot open");
  std::vector<std::vector<int32_t>> seqs;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    std::string word;
    while (ss >> word) {
      char* end = nullptr;
      const long long v = std::strtoll(word.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v >= vocab)
        return invalid_argument(path + ":" + std::to_string(line_no) + ": '" + word +
                                "' is not a token id in [0, " + std::to_string(vocab) + ")");
      ids.push_back(static_cast<int32_t>(v));
    }
    if (!ids.empty()) seqs.push_back(std::move(ids));
  }
  if (seqs.empty()) return invalid_argument(path + ": no token sequences");
  return seqs;
}

}  // namespace

int cmd_eval(int argc, char** argv) {
  CliArgs args("eval",
               "Evaluates each line of --tokens-file (token ids separated by spaces) alone from an "
               "empty cache and writes the logits of every position as float32 little-endian "
               "[total tokens, vocab], sequences concatenated in order.");
  args.positional("MODEL", "model directory or .gguf file");
  args.option("tokens-file", "FILE", "one sequence of token ids per line");
  args.option("logits-out", "FILE", "where to write the logits");
  args.flag("decode", "feed the tokens one at a time instead of one prefill");
  add_model_flags(args, "f32");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  if (!args.has("tokens-file") || !args.has("logits-out"))
    return report_error("eval", "--tokens-file and --logits-out are required");

  auto loaded = load_model_from_flags(args, args.positional_at(0));
  if (!loaded.ok()) return report_error("eval", loaded.status().to_string().c_str());
  model::Model& model = *loaded->model;
  const int64_t vocab = model.config().vocab;
  auto seqs = read_token_file(args.get("tokens-file"), vocab);
  if (!seqs.ok()) return report_error("eval", seqs.status().to_string().c_str());

  size_t longest = 0;
  for (const auto& s : *seqs) longest = std::max(longest, s.size());
  auto seq = engine::SingleSequence::create(model, static_cast<int64_t>(longest), loaded->kv_dtype);
  if (!seq.ok()) return report_error("eval", seq.status().to_string().c_str());

  const std::string out_path = args.get("logits-out");
  std::FILE* out = std::fopen(out_path.c_str(), "wb");
  if (!out) return report_error("eval", (out_path + ": cannot open for writing").c_str());
  const bool decode = args.has("decode");
  std::vector<float> logits;
  for (const auto& tokens : *seqs) {
    seq->reset();
    const size_t step = decode ? 1 : tokens.size();
    for (size_t i = 0; i < tokens.size(); i += step) {
      Status s = seq->append(std::span<const int32_t>(tokens.data() + i, step), true, logits, *loaded->pool);
      if (!s.ok()) {
        std::fclose(out);
        return report_error("eval", s.to_string().c_str());
      }
      if (std::fwrite(logits.data(), sizeof(float), logits.size(), out) != logits.size()) {
        std::fclose(out);
        return report_error("eval", (out_path + ": write failed").c_str());
      }
    }
  }
  if (std::fclose(out) != 0) return report_error("eval", (out_path + ": write failed").c_str());
  return 0;
}

}  // namespace ember::app
