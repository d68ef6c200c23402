// The paged KV cache arrives with the serving-engine issue.
