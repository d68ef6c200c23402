// GPT-2's byte-level alphabet: each of the 256 byte values is written as one
// printable character (bytes that are printable Latin-1 stand for themselves,
// the others map to U+0100 upwards), so BPE vocabularies are text. The
// tokenizer works on raw bytes and uses this mapping only at the edges:
// reading vocabularies and merges, and id_to_token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ember::tokenizer {

// The character (code point) byte b is written as.
char32_t byte_to_char(uint8_t b);
// The byte a character stands for, or nullopt when it is not in the alphabet.
std::optional<uint8_t> char_to_byte(char32_t c);

// Byte-level text of raw bytes ("Ġhello" for " hello").
std::string bytes_to_byte_level(std::string_view bytes);

// Raw bytes of a byte-level string, or nullopt when a character of `text`
// is not in the alphabet (Hugging Face's ByteLevel decoder then keeps the
// token's own UTF-8 bytes). `text` must be valid UTF-8.
std::optional<std::string> byte_level_to_bytes(std::string_view text);

}  // namespace ember::tokenizer
