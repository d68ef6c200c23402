#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ember::sampling {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return static_cast<int32_t>(best);
}
}  // namespace

Sampler::Sampler(const SamplingParams& params, std::vector<int32_t> eos_ids,
                 std::span<const int32_t> prompt)
    : params_(params), eos_ids_(std::move(eos_ids)) {
  if (params_.repetition_penalty != 1.0f) prompt_tokens_.insert(prompt.begin(), prompt.end());
  rng_.seed(params_.seed ? *params_.seed : std::random_device{}());
}

void Sampler::accept(int32_t token) {
  ++generated_;
  ++output_counts_[token];
}

Sampler::Stop Sampler::stop_reason(int32_t token) const {
  if (!params_.ignore_eos && std::find(eos_ids_.begin(), eos_ids_.end(), token) != eos_ids_.end())
    return Stop::kEos;
  if (std::find(params_.stop_token_ids.begin(), params_.stop_token_ids.end(), token) !=
      params_.stop_token_ids.end())
    return Stop::kStopToken;
  if (generated_ >= params_.max_tokens) return Stop::kLength;
  return Stop::kNone;
}

void Sampler::apply_penalties(float* logits, int64_t vocab) const {
  const float rp = params_.repetition_penalty;
  if (rp != 1.0f) {
    auto penalize = [&](int32_t t) {
      if (t < 0 || t >= vocab) return;
      logits[t] = logits[t] > 0 ? logits[t] / rp : logits[t] * rp;
    };
    for (int32_t t : prompt_tokens_) penalize(t);
    for (const auto& [t, count] : output_counts_)
      if (!prompt_tokens_.count(t)) penalize(t);
  }
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) {
    for (const auto& [t, count] : output_counts_) {
      if (t < 0 || t >= vocab) continue;
      logits[t] -= params_.frequency_penalty * static_cast<float>(count) + params_.presence_penalty;
    }
  }
}

int32_t Sampler::sample(float* logits, int64_t vocab) {
  for (const auto& [t, bias] : params_.logit_bias)
    if (t >= 0 && t < vocab) logits[t] += bias;
  if (generated_ < params_.min_tokens) {
    for (int32_t t : eos_ids_)
      if (t >= 0 && t < vocab) logits[t] = kNegInf;
    for (int32_t t : params_.stop_token_ids)
      if (t >= 0 && t < vocab) logits[t] = kNegInf;
  }
  apply_penalties(logits, vocab);
  if (params_.temperature < 1e-5f) return argmax(logits, vocab);
  return draw(logits, vocab);
}

int32_t Sampler::draw(float* logits, int64_t vocab) {
  const float inv_t = 1.0f / params_.temperature;
  const int64_t top_k = params_.top_k > 0 ? std::min<int64_t>(params_.top_k, vocab) : vocab;
  const float top_p = params_.top_p;

  // Candidates: probabilities (unnormalized) of every token.
  candidates_.resize(vocab);
  float max_logit = kNegInf;
  for (int64_t i = 0; i < vocab; ++i) {
    candidates_[i] = {logits[i] * inv_t, static_cast<int32_t>(i)};
    max_logit = std::max(max_logit, candidates_[i].first);
  }
  if (!std::isfinite(max_logit)) return argmax(logits, vocab);  // everything masked
  probs_.resize(vocab);
  for (int64_t i = 0; i < vocab; ++i) probs_[i] = candidates_[i].first = std::exp(candidates_[i].first - max_logit);
  // A strict order (ties to the lower id), so the kept set is the one a full
  // sort would give.
  auto better = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  auto mass_of = [&](int64_t b, int64_t e) {
    double m = 0.0;
    for (int64_t i = b; i < e; ++i) m += candidates_[i].first;
    return m;
  };
  // top_k, then top_p over the renormalized top k (as vLLM applies them),
  // by selection instead of sorting: linear time even when the nucleus is
  // most of the vocabulary (a flat distribution).
  int64_t keep = top_k;
  if (top_k < vocab) std::nth_element(candidates_.begin(), candidates_.begin() + top_k, candidates_.end(), better);
  if (top_p < 1.0f) {
    // The smallest best-first prefix whose mass reaches the target:
    // [0, lo) is chosen (mass `above` < target), the answer lies in (lo, hi].
    const double target = top_p * mass_of(0, keep);
    int64_t lo = 0, hi = keep;
    double above = 0.0;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      std::nth_element(candidates_.begin() + lo, candidates_.begin() + mid, candidates_.begin() + hi, better);
      const double left = mass_of(lo, mid);
      if (above + left >= target) {
        hi = mid;
      } else {
        above += left;
        lo = mid;
      }
    }
    keep = hi;
  }
  if (top_k < vocab || top_p < 1.0f) {
    // Draw over the kept tokens in id order, not in the order selection left
    // them: then a tiny change of the logits (another batch composition)
    // changes the drawn token only if it moves a token across the cut or u
    // across a boundary, as with a sorted list.
    std::pair<float, int32_t> worst = candidates_[0];
    for (int64_t i = 1; i < keep; ++i)
      if (better(worst, candidates_[i])) worst = candidates_[i];
    int64_t w = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      const std::pair<float, int32_t> c = {probs_[i], static_cast<int32_t>(i)};
      if (!better(worst, c)) candidates_[w++] = c;
    }
    keep = w;
  }
  if (params_.min_p > 0.0f) {
    // min_p relative to the most likely kept token.
    float best = 0.0f;
    for (int64_t i = 0; i < keep; ++i) best = std::max(best, candidates_[i].first);
    const float floor_p = best * params_.min_p;
    int64_t w = 0;
    for (int64_t i = 0; i < keep; ++i)
      if (candidates_[i].first >= floor_p) candidates_[w++] = candidates_[i];
    keep = w;
  }
  double kept_mass = 0.0;
  for (int64_t i = 0; i < keep; ++i) kept_mass += candidates_[i].first;
  const double u = static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0) * kept_mass;
  double acc = 0.0;
  for (int64_t i = 0; i < keep; ++i) {
    acc += candidates_[i].first;
    if (u < acc) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

TokenLogprobs Sampler::logprobs(const float* logits, int64_t vocab, int32_t token, int32_t k) {
  TokenLogprobs out;
  out.token = token;
  float m = kNegInf;
  for (int64_t i = 0; i < vocab; ++i) m = std::max(m, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - m));
  const float log_z = m + static_cast<float>(std::log(sum));
  out.logprob = logits[token] - log_z;
  if (k > 0) {
    std::vector<std::pair<float, int32_t>> all(vocab);
    for (int64_t i = 0; i < vocab; ++i) all[i] = {logits[i], static_cast<int32_t>(i)};
    const int64_t kk = std::min<int64_t>(k, vocab);
    std::partial_sort(all.begin(), all.begin() + kk, all.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    for (int64_t i = 0; i < kk; ++i) out.top.emplace_back(all[i].second, all[i].first - log_z);
  }
  return out;
}

}  // namespace ember::sampling
