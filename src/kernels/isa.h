// Which instruction-set path the CPU kernels use, chosen once at start-up:
// the best the CPU supports, or the one named by EMBER_ISA
// (generic | avx2 | avx512) for comparisons and tests.
#pragma once

#include <string_view>

namespace ember::kernels {

enum class Isa { kGeneric, kAvx2, kAvx512 };

const char* isa_name(Isa isa);
// The best path this CPU can run.
Isa detect_isa();
// The path in use (EMBER_ISA if set and supported, else detect_isa()).
Isa active_isa();
// Forces a path (tests); returns false if the CPU cannot run it.
bool set_active_isa(Isa isa);

}  // namespace ember::kernels
