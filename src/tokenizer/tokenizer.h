// The byte-level BPE tokenizer of the Qwen2 family (and GPT-2 / Llama-3
// style vocabularies): text -> ids exactly as Hugging Face's `tokenizers`
// computes them, ids -> text as its ByteLevel decoder does.
//
// encode: added tokens are cut out of the raw text first (those marked
// normalized=false) and out of the normalized text of the pieces between
// (the others); each remaining piece is normalized (NFC), pre-tokenized into
// words (the Qwen2 regex) and each word BPE-encoded; with add_special_tokens
// the post-processor's template (e.g. a leading BOS) wraps the result.
//
// Built once from a TokenizerSpec (tokenizer_json.h or gguf_vocab.h);
// immutable and safe to use from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer_spec.h"

namespace ember::tokenizer {

struct EncodeOptions {
  // Apply the post-processor's template (BOS for DeepSeek-R1-Distill), as
  // Hugging Face's add_special_tokens=True.
  bool add_special_tokens = true;
  // Added / special tokens written in the text map to their ids, as Hugging
  // Face does. false: the text is plain text throughout, so
  // "<｜User｜>" typed by a user becomes ordinary tokens, never a control token.
  bool parse_special = true;
};

class Tokenizer {
 public:
  // Checks the spec (ids in range, merges in the vocabulary, ...) and builds
  // the lookup tables; errors name spec.source.
  static Result<std::shared_ptr<const Tokenizer>> create(TokenizerSpec spec);

  // invalid_argument if `text` is not valid UTF-8.
  Result<std::vector<int32_t>> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Appends the ids of text (no post-processor) to *out.
  Status encode_append(std::string_view text, bool parse_special, std::vector<int32_t>* out) const;

  // Hugging Face's decode: unknown ids are skipped; bytes that are not valid
  // UTF-8 become U+FFFD (one per maximal invalid subpart).
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // The bytes id contributes to decoded text (may be a partial UTF-8
  // sequence); false for unknown ids and, with skip_special, special tokens.
  bool append_token_bytes(int32_t id, bool skip_special, std::string* out) const;

  // The token's string as the vocabulary writes it ("Ġworld"), or nullopt.
  std::optional<std::string> id_to_token(int32_t id) const;
  // The id of a vocabulary token string or added token content, or -1.
  int32_t token_to_id(std::string_view token) const;

  // One past the largest id that has a token.
  int32_t vocab_size() const { return static_cast<int32_t>(entries_.size()); }
  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;

  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t pad_id() const { return pad_id_; }
  // The token's text ("" when the id is -1 or unknown).
  std::string token_text(int32_t id) const;
  const std::string& source() const { return source_; }
  // The ids the post-processor puts around a single sequence (before, after).
  const std::vector<TemplateItem>& post_processor() const { return post_processor_; }

 private:
  Tokenizer() = default;
  Status encode_piece(std::string_view piece, std::vector<int32_t>* out) const;  // no added tokens
  Status encode_normalized(std::string_view text, bool parse_special, std::vector<int32_t>* out) const;

  struct Entry {
    uint32_t text_offset = 0, text_length = 0;    // vocabulary string, in texts_
    uint32_t bytes_offset = 0, bytes_length = 0;  // decoded bytes, in bytes_
    bool present = false, special = false, added = false;
  };

  std::string source_;
  std::vector<Entry> entries_;  // by id
  std::string texts_, bytes_;
  StringIdMap token_ids_;       // vocabulary strings and added-token contents
  std::unique_ptr<BpeModel> bpe_;  // holds a mutex-guarded cache: not movable
  Normalizer normalizer_;
  std::shared_ptr<const PreTokenizer> pre_tokenizer_;
  AddedTokenMatcher raw_added_;         // normalized=false: matched in the raw text
  AddedTokenMatcher normalized_added_;  // normalized=true: matched after normalization
  std::vector<TemplateItem> post_processor_;
  int32_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
};

}  // namespace ember::tokenizer
