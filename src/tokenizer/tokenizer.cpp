#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <limits>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace ember::tokenizer {
namespace {

// Ids above this are refused: a corrupt file must not make us allocate
// gigabytes of entries.
constexpr int64_t kMaxTokenId = 16 * 1024 * 1024;

Status check_id(const std::string& source, int64_t id, const std::string& what) {
  if (id < 0 || id >= kMaxTokenId)
    return corrupt(source + ": " + what + " has id " + std::to_string(id) + ", expected 0.." +
                   std::to_string(kMaxTokenId - 1));
  return ok_status();
}

}  // namespace

Result<std::shared_ptr<const Tokenizer>> Tokenizer::create(TokenizerSpec spec) {
  std::shared_ptr<Tokenizer> t(new Tokenizer());
  t->source_ = spec.source;
  const std::string& src = spec.source;
  if (spec.vocab.empty()) return corrupt(src + ": the vocabulary is empty");

  int64_t max_id = -1;
  for (const auto& [text, id] : spec.vocab) {
    EMBER_RETURN_IF_ERROR(check_id(src, id, "vocabulary token '" + text + "'"));
    max_id = std::max<int64_t>(max_id, id);
  }
  for (const AddedToken& a : spec.added_tokens) {
    EMBER_RETURN_IF_ERROR(check_id(src, a.id, "added token '" + a.content + "'"));
    if (a.content.empty()) return corrupt(src + ": added token " + std::to_string(a.id) + " is empty");
    if (!is_valid_utf8(a.content))
      return corrupt(src + ": added token " + std::to_string(a.id) + " is not valid UTF-8");
    max_id = std::max<int64_t>(max_id, a.id);
  }
  t->entries_.resize(static_cast<size_t>(max_id + 1));

  // Returns the token's raw bytes (nullopt when it is not byte-level text).
  auto set_entry = [&](int32_t id, std::string_view text, bool special, bool added) {
    Entry& e = t->entries_[id];
    e.present = true;
    e.special = special;
    e.added = added;
    e.text_offset = static_cast<uint32_t>(t->texts_.size());
    e.text_length = static_cast<uint32_t>(text.size());
    t->texts_.append(text);
    // The ByteLevel decoder: a token whose every character is in the byte
    // alphabet decodes to those bytes, any other to its own UTF-8.
    std::optional<std::string> raw = byte_level_to_bytes(text);
    e.bytes_offset = static_cast<uint32_t>(t->bytes_.size());
    e.bytes_length = static_cast<uint32_t>(raw ? raw->size() : text.size());
    t->bytes_.append(raw ? std::string_view(*raw) : text);
    return raw;
  };

  // Vocabulary: byte ids for BPE's first symbols, raw bytes for ignore_merges.
  std::array<int32_t, 256> byte_ids;
  byte_ids.fill(-1);
  StringIdMap raw_vocab;
  t->token_ids_.reserve(spec.vocab.size() + spec.added_tokens.size());
  if (spec.ignore_merges) raw_vocab.reserve(spec.vocab.size());
  for (const auto& [text, id] : spec.vocab) {
    if (!is_valid_utf8(text)) return corrupt(src + ": vocabulary token " + std::to_string(id) + " is not valid UTF-8");
    std::optional<std::string> raw = set_entry(id, text, false, false);
    t->token_ids_.assign(text, id);
    if (raw && raw->size() == 1 && byte_ids[static_cast<uint8_t>((*raw)[0])] < 0)
      byte_ids[static_cast<uint8_t>((*raw)[0])] = id;
    if (spec.ignore_merges && raw) raw_vocab.assign(*raw, id);
  }

  PairMap merges;
  merges.reserve(spec.merges.size());
  std::string joined;
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [a, b] = spec.merges[rank];
    const int32_t left = t->token_ids_.find(a), right = t->token_ids_.find(b);
    joined.assign(a).append(b);
    const int32_t merged = t->token_ids_.find(joined);
    if (left < 0 || right < 0 || merged < 0)
      return corrupt(src + ": merge " + std::to_string(rank) + " '" + a + " " + b +
                     "' uses a token that is not in the vocabulary");
    // The first (lowest-rank) merge of a pair wins, as in Hugging Face.
    if (merges.find(left, right).rank < 0) merges.assign(left, right, {static_cast<int32_t>(rank), merged});
  }

  BpeOptions bpe_options;
  bpe_options.fuse_unk = spec.fuse_unk;
  bpe_options.ignore_merges = spec.ignore_merges;
  if (!spec.unk_token.empty()) {
    bpe_options.unk_id = t->token_ids_.find(spec.unk_token);
    if (bpe_options.unk_id < 0) return corrupt(src + ": unk_token '" + spec.unk_token + "' is not in the vocabulary");
  }

  // Added tokens override the vocabulary entry of the same id.
  std::vector<AddedToken> raw_tokens, normalized_tokens;
  for (const AddedToken& a : spec.added_tokens) {
    set_entry(a.id, a.content, a.special, true);
    t->token_ids_.assign(a.content, a.id);
    (a.normalized ? normalized_tokens : raw_tokens).push_back(a);
  }
  t->raw_added_ = AddedTokenMatcher(std::move(raw_tokens));
  t->normalized_added_ = AddedTokenMatcher(std::move(normalized_tokens));

  t->bpe_ = std::make_unique<BpeModel>(byte_ids, std::move(merges), std::move(raw_vocab), bpe_options);
  t->normalizer_ = Normalizer(spec.normalizer);
  auto pre = PreTokenizer::create(std::move(spec.pre_tokenizer));
  if (!pre.ok()) return pre.status().with_context(src);
  t->pre_tokenizer_ = *pre;

  for (const TemplateItem& item : spec.post_processor)
    for (int32_t id : item.ids)
      if (id < 0 || id >= t->vocab_size() || !t->entries_[id].present)
        return corrupt(src + ": post_processor uses token id " + std::to_string(id) + ", which has no token");
  t->post_processor_ = std::move(spec.post_processor);

  for (auto [id, name] : {std::pair{spec.bos_id, "bos"}, {spec.eos_id, "eos"}, {spec.pad_id, "pad"}})
    if (id >= t->vocab_size() || (id >= 0 && !t->entries_[id].present))
      return corrupt(src + ": " + name + " token id " + std::to_string(id) + " has no token");
  t->bos_id_ = spec.bos_id;
  t->eos_id_ = spec.eos_id;
  t->pad_id_ = spec.pad_id;
  return std::shared_ptr<const Tokenizer>(std::move(t));
}

Status Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t>* out) const {
  if (piece.empty()) return ok_status();
  if (const FastSplitter* fast = pre_tokenizer_->fast_path()) {
    fast->split(piece, [&](size_t b, size_t e) { bpe_->encode_word(piece.substr(b, e - b), out); });
    return ok_status();
  }
  return pre_tokenizer_->split(piece, [&](std::string_view word) { bpe_->encode_word(word, out); });
}

Status Tokenizer::encode_normalized(std::string_view text, bool parse_special, std::vector<int32_t>* out) const {
  std::string normalized;
  std::string_view piece = text;
  if (normalizer_.normalize(text, &normalized)) piece = normalized;
  if (!parse_special || normalized_added_.empty()) return encode_piece(piece, out);
  std::vector<Segment> segments;
  normalized_added_.split(piece, &segments);
  for (const Segment& s : segments) {
    if (s.token >= 0) {
      out->push_back(s.token);
    } else {
      EMBER_RETURN_IF_ERROR(encode_piece(piece.substr(s.begin, s.end - s.begin), out));
    }
  }
  return ok_status();
}

Status Tokenizer::encode_append(std::string_view text, bool parse_special, std::vector<int32_t>* out) const {
  if (const size_t bad = find_invalid_utf8(text); bad != std::string_view::npos)
    return invalid_argument("text is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
  if (!parse_special || raw_added_.empty()) return encode_normalized(text, parse_special, out);
  std::vector<Segment> segments;
  raw_added_.split(text, &segments);
  for (const Segment& s : segments) {
    if (s.token >= 0) {
      out->push_back(s.token);
    } else {
      EMBER_RETURN_IF_ERROR(encode_normalized(text.substr(s.begin, s.end - s.begin), parse_special, out));
    }
  }
  return ok_status();
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (!options.add_special_tokens || post_processor_.empty()) {
    EMBER_RETURN_IF_ERROR(encode_append(text, options.parse_special, &ids));
    return ids;
  }
  for (const TemplateItem& item : post_processor_) {
    if (item.is_sequence) {
      EMBER_RETURN_IF_ERROR(encode_append(text, options.parse_special, &ids));
    } else {
      ids.insert(ids.end(), item.ids.begin(), item.ids.end());
    }
  }
  return ids;
}

bool Tokenizer::append_token_bytes(int32_t id, bool skip_special, std::string* out) const {
  if (id < 0 || id >= vocab_size()) return false;
  const Entry& e = entries_[id];
  if (!e.present || (skip_special && e.special)) return false;
  out->append(bytes_, e.bytes_offset, e.bytes_length);
  return true;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) append_token_bytes(id, skip_special_tokens, &bytes);
  std::string text;
  text.reserve(bytes.size());
  append_utf8_lossy(bytes, &text);
  return text;
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size() || !entries_[id].present) return std::nullopt;
  return texts_.substr(entries_[id].text_offset, entries_[id].text_length);
}

std::string Tokenizer::token_text(int32_t id) const {
  std::optional<std::string> t = id_to_token(id);
  return t ? *t : std::string();
}

int32_t Tokenizer::token_to_id(std::string_view token) const { return token_ids_.find(token); }

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < vocab_size() && entries_[id].present && entries_[id].special;
}

bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && id < vocab_size() && entries_[id].present && entries_[id].added;
}

}  // namespace ember::tokenizer
