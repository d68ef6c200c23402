// Replaced by the forward pass.
