#pragma once
// π as a constant of the language rather than M_PI, which is POSIX, not C++ (MSVC and MinGW
// hide it unless _USE_MATH_DEFINES is set before <cmath>).
namespace grym {

constexpr double kPi = 3.14159265358979323846;

}  // namespace grym
