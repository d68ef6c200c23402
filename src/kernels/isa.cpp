#include "kernels/isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace ember::kernels {
namespace {

#if defined(__x86_64__)
// F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports does
// not know "f16c".
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
}
#endif

bool cpu_can(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::kGeneric: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case Isa::kAvx512:
      return cpu_can(Isa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kGeneric;
#endif
}

Isa initial_isa() {
  const Isa best = detect_isa();
  const char* env = std::getenv("EMBER_ISA");
  if (!env || !*env) return best;
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (std::strcmp(env, isa_name(isa)) == 0) {
      if (cpu_can(isa)) return isa;
      LOG_WARN("EMBER_ISA=%s is not supported by this CPU; using %s", env, isa_name(best));
      return best;
    }
  }
  LOG_WARN("EMBER_ISA=%s is unknown (generic, avx2, avx512); using %s", env, isa_name(best));
  return best;
}

std::atomic<int> g_active{-1};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kGeneric: return "generic";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

Isa detect_isa() {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
    if (cpu_can(isa)) return isa;
  return Isa::kGeneric;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_relaxed);
  if (v < 0) {
    v = static_cast<int>(initial_isa());
    g_active.store(v);
  }
  return static_cast<Isa>(v);
}

bool set_active_isa(Isa isa) {
  if (!cpu_can(isa)) return false;
  g_active.store(static_cast<int>(isa));
  return true;
}

}  // namespace ember::kernels
