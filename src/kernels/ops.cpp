// The dispatch point of the op list. Ops without per-ISA variants are defined
// directly in cpu/; the matmul family chooses its implementation here.
#include "kernels/ops.h"
