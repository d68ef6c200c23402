// Replaced by the BPE tokenizer.
