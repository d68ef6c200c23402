#include "webui/assets.h"

#include <algorithm>
#include <cstddef>

namespace ember::webui {
namespace detail {
// Defined in the generated webui_assets.cpp (tools/embed_assets.cpp).
extern const Asset kAssets[];
extern const size_t kAssetCount;
extern const bool kUiBuilt;
}  // namespace detail

std::span<const Asset> all_assets() { return {detail::kAssets, detail::kAssetCount}; }

const Asset* find_asset(std::string_view path) {
  const auto assets = all_assets();
  const auto it = std::lower_bound(assets.begin(), assets.end(), path,
                                   [](const Asset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

bool ui_built() { return detail::kUiBuilt; }

}  // namespace ember::webui
