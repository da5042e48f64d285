// libtorch's deterministic-algorithms switch (torch.use_deterministic_algorithms), which
// tch does not bind: operations without a deterministic implementation then fail
// instead of returning run-to-run different results.
#include <ATen/Context.h>

extern "C" int opg_set_deterministic_algorithms(int on) {
  try {
    at::globalContext().setDeterministicAlgorithms(on != 0, /*warn_only=*/false);
    return 0;
  } catch (...) {
    return -1;
  }
}

extern "C" int opg_deterministic_algorithms() {
  return at::globalContext().deterministicAlgorithms() ? 1 : 0;
}
