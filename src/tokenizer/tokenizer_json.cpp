#include "tokenizer/tokenizer_json.h"

#include <simdjson.h>

#include "base/mapped_file.h"

namespace ember::tokenizer {
namespace {

using Json = nlohmann::json;

// Short description of a JSON value for messages.
std::string brief(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::string type_of(const Json& j) { return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : ""; }

Status parse_normalizer(const Json& j, const std::string& src, std::vector<NormalForm>* out) {
  if (j.is_null()) return ok_status();
  const std::string type = type_of(j);
  if (type == "Sequence") {
    if (!j.contains("normalizers") || !j["normalizers"].is_array())
      return corrupt(src + ": normalizer Sequence without a 'normalizers' list");
    for (const Json& n : j["normalizers"]) EMBER_RETURN_IF_ERROR(parse_normalizer(n, src, out));
    return ok_status();
  }
  if (type == "NFC") out->push_back(NormalForm::kNFC);
  else if (type == "NFD") out->push_back(NormalForm::kNFD);
  else if (type == "NFKC") out->push_back(NormalForm::kNFKC);
  else if (type == "NFKD") out->push_back(NormalForm::kNFKD);
  else return unsupported(src + ": normalizer " + brief(j) + " is not supported (NFC, NFD, NFKC, NFKD, Sequence are)");
  return ok_status();
}

Result<SplitBehavior> parse_behavior(const Json& j, const std::string& src) {
  const std::string b = j.is_string() ? j.get<std::string>() : "";
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return Status(corrupt(src + ": Split behavior " + brief(j) + " is not one of Isolated, Removed, "
                        "MergedWithPrevious, MergedWithNext, Contiguous"));
}

Status parse_pre_tokenizer(const Json& j, const std::string& src, std::vector<PreTokenizerStep>* out) {
  if (j.is_null()) return unsupported(src + ": a tokenizer without a pre_tokenizer is not supported (byte-level BPE needs ByteLevel)");
  const std::string type = type_of(j);
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array())
      return corrupt(src + ": pre_tokenizer Sequence without a 'pretokenizers' list");
    for (const Json& p : j["pretokenizers"]) EMBER_RETURN_IF_ERROR(parse_pre_tokenizer(p, src, out));
    return ok_status();
  }
  PreTokenizerStep step;
  if (type == "Split") {
    step.kind = PreTokenizerStep::Kind::kSplit;
    const Json& pattern = j.value("pattern", Json());
    if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
      step.pattern = pattern["Regex"].get<std::string>();
    } else if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
      step.pattern = pattern["String"].get<std::string>();
      step.pattern_is_regex = false;
    } else {
      return corrupt(src + ": Split pattern " + brief(pattern) + " is neither {\"Regex\": ...} nor {\"String\": ...}");
    }
    EMBER_ASSIGN_OR_RETURN(step.behavior, parse_behavior(j.value("behavior", Json()), src));
    step.invert = j.value("invert", false);
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    step.add_prefix_space = j.value("add_prefix_space", true);
    step.use_regex = j.value("use_regex", true);
  } else {
    return unsupported(src + ": pre_tokenizer " + brief(j) + " is not supported (Split, ByteLevel, Sequence are)");
  }
  out->push_back(std::move(step));
  return ok_status();
}

Status check_decoder(const Json& j, const std::string& src) {
  const std::string type = type_of(j);
  if (type == "ByteLevel") return ok_status();
  if (type == "Sequence" && j.contains("decoders") && j["decoders"].is_array() && j["decoders"].size() == 1)
    return check_decoder(j["decoders"][0], src);
  return unsupported(src + ": decoder " + brief(j) + " is not supported (ByteLevel is)");
}

// The special-token name of a TemplateProcessing item -> ids.
Result<std::vector<int32_t>> template_special_ids(const Json& special_tokens, const std::string& name,
                                                  const std::string& src) {
  if (!special_tokens.is_object() || !special_tokens.contains(name))
    return Status(corrupt(src + ": post_processor names special token '" + name + "' but does not define it"));
  const Json& def = special_tokens[name];
  if (!def.is_object() || !def.contains("ids") || !def["ids"].is_array())
    return Status(corrupt(src + ": post_processor special token '" + name + "' has no 'ids' list"));
  std::vector<int32_t> ids;
  for (const Json& id : def["ids"]) {
    if (!id.is_number_integer()) return Status(corrupt(src + ": post_processor special token '" + name + "': ids must be integers"));
    ids.push_back(id.get<int32_t>());
  }
  return ids;
}

Status parse_post_processor(const Json& j, const std::string& src, std::vector<TemplateItem>* out) {
  if (j.is_null()) return ok_status();
  const std::string type = type_of(j);
  if (type == "ByteLevel") return ok_status();  // only trims offsets
  if (type == "Sequence") {
    if (!j.contains("processors") || !j["processors"].is_array())
      return corrupt(src + ": post_processor Sequence without a 'processors' list");
    for (const Json& p : j["processors"]) EMBER_RETURN_IF_ERROR(parse_post_processor(p, src, out));
    return ok_status();
  }
  if (type != "TemplateProcessing")
    return unsupported(src + ": post_processor " + brief(j) + " is not supported (TemplateProcessing, ByteLevel, Sequence are)");
  if (!out->empty()) return unsupported(src + ": more than one TemplateProcessing post_processor");
  const Json& single = j.value("single", Json());
  if (!single.is_array()) return corrupt(src + ": TemplateProcessing without a 'single' list");
  int sequences = 0;
  for (const Json& item : single) {
    TemplateItem t;
    if (item.is_object() && item.contains("Sequence")) {
      t.is_sequence = true;
      ++sequences;
    } else if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object() &&
               item["SpecialToken"].contains("id") && item["SpecialToken"]["id"].is_string()) {
      EMBER_ASSIGN_OR_RETURN(t.ids, template_special_ids(j.value("special_tokens", Json()),
                                                         item["SpecialToken"]["id"].get<std::string>(), src));
    } else {
      return corrupt(src + ": TemplateProcessing item " + brief(item) + " is neither a Sequence nor a SpecialToken");
    }
    out->push_back(std::move(t));
  }
  if (sequences != 1) return corrupt(src + ": TemplateProcessing 'single' must hold the sequence exactly once");
  return ok_status();
}

// model: vocab and merges (300k entries) read with simdjson, the rest of the
// small settings with nlohmann.
Status parse_model(simdjson::dom::element m, const std::string& src, TokenizerSpec* spec) {
  if (!m.is_object()) return corrupt(src + ": 'model' is missing or not an object");
  Json settings = Json::object();
  const simdjson::dom::object fields = m.get_object().value_unsafe();  // a copy: the result is a temporary
  for (auto [key, value] : fields) {
    if (key == "vocab" || key == "merges") continue;
    settings[std::string(key)] = Json::parse(simdjson::minify(value), nullptr, false);
  }
  const std::string type = type_of(settings);
  if (!type.empty() && type != "BPE") return unsupported(src + ": model type '" + type + "' is not supported (BPE is)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (settings.contains(key) && settings[key].is_string() && !settings[key].get<std::string>().empty())
      return unsupported(src + ": BPE " + key + " is not supported");
  if (settings.value("byte_fallback", false)) return unsupported(src + ": BPE byte_fallback is not supported");
  if (settings.contains("dropout") && settings["dropout"].is_number() && settings["dropout"].get<double>() > 0)
    return unsupported(src + ": BPE dropout is not supported");
  if (settings.contains("unk_token") && settings["unk_token"].is_string())
    spec->unk_token = settings["unk_token"].get<std::string>();
  spec->fuse_unk = settings.value("fuse_unk", false);
  spec->ignore_merges = settings.value("ignore_merges", false);

  simdjson::dom::object vocab;
  if (m["vocab"].get(vocab) != simdjson::SUCCESS) return corrupt(src + ": model.vocab is missing or not an object");
  spec->vocab.reserve(vocab.size());
  for (auto [key, value] : vocab) {
    int64_t id;
    if (value.get(id) != simdjson::SUCCESS || id < INT32_MIN || id > INT32_MAX)
      return corrupt(src + ": model.vocab['" + std::string(key) + "'] is not an integer id");
    spec->vocab.emplace_back(std::string(key), static_cast<int32_t>(id));
  }
  simdjson::dom::array merges;
  if (m["merges"].get(merges) != simdjson::SUCCESS) return corrupt(src + ": model.merges is missing or not a list");
  spec->merges.reserve(merges.size());
  size_t i = 0;
  for (simdjson::dom::element mg : merges) {
    std::string_view str, a, b;
    simdjson::dom::array pair;
    if (mg.get(str) == simdjson::SUCCESS) {
      const size_t sp = str.find(' ');
      if (sp == std::string_view::npos || sp == 0 || sp + 1 == str.size() ||
          str.find(' ', sp + 1) != std::string_view::npos)
        return corrupt(src + ": merge " + std::to_string(i) + " '" + std::string(str) +
                       "' is not two tokens separated by one space");
      spec->merges.emplace_back(std::string(str.substr(0, sp)), std::string(str.substr(sp + 1)));
    } else if (mg.get(pair) == simdjson::SUCCESS && pair.size() == 2 && pair.at(0).get(a) == simdjson::SUCCESS &&
               pair.at(1).get(b) == simdjson::SUCCESS) {
      spec->merges.emplace_back(std::string(a), std::string(b));
    } else {
      return corrupt(src + ": merge " + std::to_string(i) + " " + simdjson::minify(mg).substr(0, 80) +
                     " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    ++i;
  }
  return ok_status();
}

Status parse_added_tokens(const Json& list, const std::string& src, std::vector<AddedToken>* out) {
  if (list.is_null()) return ok_status();
  if (!list.is_array()) return corrupt(src + ": 'added_tokens' is not a list");
  for (const Json& a : list) {
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
        !a["content"].is_string())
      return corrupt(src + ": added token " + brief(a) + " needs an integer 'id' and a string 'content'");
    AddedToken t;
    t.id = a["id"].get<int32_t>();
    t.content = a["content"].get<std::string>();
    t.special = a.value("special", false);
    t.normalized = a.value("normalized", !t.special);
    t.lstrip = a.value("lstrip", false);
    t.rstrip = a.value("rstrip", false);
    t.single_word = a.value("single_word", false);
    out->push_back(std::move(t));
  }
  return ok_status();
}

// A token given as "text" or {"content": "text", ...} (transformers' AddedToken).
std::string token_content(const nlohmann::ordered_json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

int32_t find_token(const TokenizerSpec& spec, const std::string& content) {
  for (const AddedToken& a : spec.added_tokens)
    if (a.content == content) return a.id;
  for (const auto& [text, id] : spec.vocab)
    if (text == content) return id;
  return -1;
}

}  // namespace

Result<TokenizerSpec> spec_from_tokenizer_json(std::string_view json_text, const std::string& source) {
  // simdjson: the 7 MB of a 150k-token vocabulary parse in milliseconds,
  // where a general DOM takes over 100 ms.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(simdjson::padded_string(json_text)).get(root); err != simdjson::SUCCESS)
    return Status(corrupt(source + ": not valid JSON (" + simdjson::error_message(err) + ")"));
  if (!root.is_object()) return Status(corrupt(source + ": the top level is not a JSON object"));
  // The small parts as nlohmann values.
  auto part = [&](const char* key) {
    simdjson::dom::element e;
    if (root[key].get(e) != simdjson::SUCCESS) return Json();
    return Json::parse(simdjson::minify(e), nullptr, false);
  };
  TokenizerSpec spec;
  spec.source = source;
  simdjson::dom::element model;
  if (root["model"].get(model) != simdjson::SUCCESS) return Status(corrupt(source + ": 'model' is missing"));
  EMBER_RETURN_IF_ERROR(parse_model(model, source, &spec));
  EMBER_RETURN_IF_ERROR(parse_added_tokens(part("added_tokens"), source, &spec.added_tokens));
  EMBER_RETURN_IF_ERROR(parse_normalizer(part("normalizer"), source, &spec.normalizer));
  EMBER_RETURN_IF_ERROR(parse_pre_tokenizer(part("pre_tokenizer"), source, &spec.pre_tokenizer));
  EMBER_RETURN_IF_ERROR(parse_post_processor(part("post_processor"), source, &spec.post_processor));
  EMBER_RETURN_IF_ERROR(check_decoder(part("decoder"), source));
  return spec;
}

Result<TokenizerConfig> parse_tokenizer_config(const nlohmann::ordered_json& j, const std::string& source) {
  if (!j.is_object()) return Status(corrupt(source + ": the top level is not a JSON object"));
  TokenizerConfig c;
  if (j.contains("bos_token")) c.bos_token = token_content(j["bos_token"]);
  if (j.contains("eos_token")) c.eos_token = token_content(j["eos_token"]);
  if (j.contains("pad_token")) c.pad_token = token_content(j["pad_token"]);
  if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) c.add_bos_token = j["add_bos_token"].get<bool>();
  if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) c.add_eos_token = j["add_eos_token"].get<bool>();
  if (j.contains("tokenizer_class") && j["tokenizer_class"].is_string()) c.tokenizer_class = j["tokenizer_class"].get<std::string>();
  if (j.contains("chat_template")) c.chat_template = j["chat_template"];
  if (j.contains("model_max_length") && j["model_max_length"].is_number()) {
    const double v = j["model_max_length"].get<double>();  // transformers writes 1e30 for "no limit"
    if (v > 0 && v < 1e12) c.model_max_length = static_cast<int64_t>(v);
  }
  return c;
}

Status apply_tokenizer_config(const TokenizerConfig& config, TokenizerSpec* spec) {
  auto resolve = [&](const std::string& content, const char* name, int32_t* id) -> Status {
    if (content.empty()) return ok_status();
    *id = find_token(*spec, content);
    if (*id < 0) return corrupt(spec->source + ": " + name + " '" + content + "' is not a token");
    return ok_status();
  };
  EMBER_RETURN_IF_ERROR(resolve(config.bos_token, "bos_token", &spec->bos_id));
  EMBER_RETURN_IF_ERROR(resolve(config.eos_token, "eos_token", &spec->eos_id));
  EMBER_RETURN_IF_ERROR(resolve(config.pad_token, "pad_token", &spec->pad_id));
  // transformers' LlamaTokenizerFast rebuilds its post-processor from these
  // flags at load; other classes keep tokenizer.json's.
  if (config.tokenizer_class == "LlamaTokenizerFast" && (config.add_bos_token || config.add_eos_token)) {
    const bool bos = config.add_bos_token.value_or(true), eos = config.add_eos_token.value_or(false);
    if ((bos && spec->bos_id < 0) || (eos && spec->eos_id < 0))
      return corrupt(spec->source + ": add_bos_token / add_eos_token set but the token is not defined");
    spec->post_processor.clear();
    if (bos) spec->post_processor.push_back({false, {spec->bos_id}});
    spec->post_processor.push_back({true, {}});
    if (eos) spec->post_processor.push_back({false, {spec->eos_id}});
  }
  return ok_status();
}

Result<std::shared_ptr<const Tokenizer>> load_tokenizer_dir(const std::string& dir, TokenizerConfig* config_out) {
  const std::string json_path = dir + "/tokenizer.json";
  if (!file_exists(json_path)) return Status(not_found(json_path + ": no such file (a Hugging Face tokenizer is needed)"));
  EMBER_ASSIGN_OR_RETURN(std::string text, read_file(json_path));
  EMBER_ASSIGN_OR_RETURN(TokenizerSpec spec, spec_from_tokenizer_json(text, json_path));
  text.clear();
  text.shrink_to_fit();

  TokenizerConfig config;
  const std::string config_path = dir + "/tokenizer_config.json";
  if (file_exists(config_path)) {
    EMBER_ASSIGN_OR_RETURN(std::string ctext, read_file(config_path));
    nlohmann::ordered_json cj = nlohmann::ordered_json::parse(ctext, nullptr, false);
    if (cj.is_discarded()) return Status(corrupt(config_path + ": not valid JSON"));
    EMBER_ASSIGN_OR_RETURN(config, parse_tokenizer_config(cj, config_path));
    EMBER_RETURN_IF_ERROR(apply_tokenizer_config(config, &spec));
  }
  auto tok = Tokenizer::create(std::move(spec));
  if (tok.ok() && config_out) *config_out = std::move(config);
  return tok;
}

}  // namespace ember::tokenizer
