#pragma once
// <windows.h> the way the core includes it: without the min/max macros (they break std::min)
// and without the rarely used APIs. Include only under _WIN32.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
