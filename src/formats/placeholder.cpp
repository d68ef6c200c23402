// Replaced by the GGUF / safetensors readers.
