#include "golden/golden_case.h"
#include "golden/golden_components.h"

namespace grym {

void runUnetGolden(GoldenCase&) { throw GoldenUnsupported{"no implementation of this component has landed"}; }

}  // namespace grym
