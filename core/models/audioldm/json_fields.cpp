#include "models/audioldm/json_fields.h"

#include <fstream>
#include <limits>
#include <sstream>

namespace grym::audioldm {

namespace {

// Python's json module writes Infinity, -Infinity and NaN (diffusers' lambda_min_clipped is
// -Infinity by default), which strict JSON parsers reject. Outside strings we rewrite them to
// the largest finite double and to null; configs only use them as "no limit" markers.
std::string replacePythonNumberLiterals(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) out += text[++i];
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
            out += c;
        } else if (text.compare(i, 8, "Infinity") == 0) {
            out += "1.7976931348623157e308";
            i += 7;
        } else if (text.compare(i, 3, "NaN") == 0) {
            out += "null";
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

nlohmann::json readJsonFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ModelError("cannot open '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return nlohmann::json::parse(replacePythonNumberLiterals(text.str()));
    } catch (const nlohmann::json::exception& e) {
        throw ModelError("'" + path + "' is not valid JSON: " + e.what());
    }
}

}  // namespace grym::audioldm
