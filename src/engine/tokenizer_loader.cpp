#include "engine/tokenizer_loader.h"

#include "base/mapped_file.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer_json.h"

namespace ember::engine {
namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const std::string_view x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

}  // namespace

Result<tokenizer::GgufVocab> read_gguf_vocab(const formats::GgufFile& g) {
  tokenizer::GgufVocab v;
  v.source = g.path();
  if (!g.has("tokenizer.ggml.model"))
    return Status(not_found(g.path() + ": the file has no tokenizer (tokenizer.ggml.model is missing)"));
  EMBER_ASSIGN_OR_RETURN(v.model, g.get_string("tokenizer.ggml.model"));
  if (g.has("tokenizer.ggml.pre")) {
    EMBER_ASSIGN_OR_RETURN(v.pre, g.get_string("tokenizer.ggml.pre"));
  } else {
    v.pre = "default";
  }
  EMBER_ASSIGN_OR_RETURN(v.tokens, g.get_string_array("tokenizer.ggml.tokens"));
  if (g.has("tokenizer.ggml.token_type")) {
    EMBER_ASSIGN_OR_RETURN(v.token_types, g.get_int_array("tokenizer.ggml.token_type"));
  }
  if (g.has("tokenizer.ggml.merges")) {
    EMBER_ASSIGN_OR_RETURN(v.merges, g.get_string_array("tokenizer.ggml.merges"));
  }
  auto opt_int = [&](const char* key, int64_t* out) -> Status {
    if (!g.has(key)) return ok_status();
    EMBER_ASSIGN_OR_RETURN(*out, g.get_int(key));
    return ok_status();
  };
  EMBER_RETURN_IF_ERROR(opt_int("tokenizer.ggml.bos_token_id", &v.bos_id));
  EMBER_RETURN_IF_ERROR(opt_int("tokenizer.ggml.eos_token_id", &v.eos_id));
  EMBER_RETURN_IF_ERROR(opt_int("tokenizer.ggml.padding_token_id", &v.pad_id));
  auto opt_bool = [&](const char* key, std::optional<bool>* out) -> Status {
    if (!g.has(key)) return ok_status();
    EMBER_ASSIGN_OR_RETURN(bool b, g.get_bool(key));
    *out = b;
    return ok_status();
  };
  EMBER_RETURN_IF_ERROR(opt_bool("tokenizer.ggml.add_bos_token", &v.add_bos));
  EMBER_RETURN_IF_ERROR(opt_bool("tokenizer.ggml.add_eos_token", &v.add_eos));
  return v;
}

Result<ModelTokenizer> load_model_tokenizer(const std::string& path) {
  ModelTokenizer out;
  if (is_directory(path)) {
    tokenizer::TokenizerConfig config;
    EMBER_ASSIGN_OR_RETURN(out.tokenizer, tokenizer::load_tokenizer_dir(path, &config));
    out.chat_template = std::move(config.chat_template);
    out.bos_token = config.bos_token;
    out.eos_token = config.eos_token;
    out.pad_token = config.pad_token;
    out.model_max_length = config.model_max_length;
    return out;
  }
  if (!file_exists(path)) return Status(not_found(path + ": no such file or directory"));
  if (!ends_with(path, ".gguf"))
    return Status(invalid_argument(path + ": expected a Hugging Face directory or a .gguf file"));
  EMBER_ASSIGN_OR_RETURN(formats::GgufFile gguf, formats::GgufFile::open(path));
  EMBER_ASSIGN_OR_RETURN(tokenizer::GgufVocab vocab, read_gguf_vocab(gguf));
  EMBER_ASSIGN_OR_RETURN(tokenizer::TokenizerSpec spec, tokenizer::spec_from_gguf_vocab(vocab));
  EMBER_ASSIGN_OR_RETURN(out.tokenizer, tokenizer::Tokenizer::create(std::move(spec)));
  if (gguf.has("tokenizer.chat_template")) {
    EMBER_ASSIGN_OR_RETURN(std::string t, gguf.get_string("tokenizer.chat_template"));
    out.chat_template = std::move(t);
  }
  const auto& tok = *out.tokenizer;
  out.bos_token = tok.token_text(tok.bos_id());
  out.eos_token = tok.token_text(tok.eos_id());
  out.pad_token = tok.token_text(tok.pad_id());
  return out;
}

}  // namespace ember::engine
