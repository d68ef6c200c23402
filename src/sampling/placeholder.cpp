// Replaced by the sampler.
