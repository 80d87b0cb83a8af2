#pragma once
// The browser page (the top-level web/ folder), compiled into the binary at build time by
// cmake/embed_web_assets.cmake; HttpServer serves it at / without a token.
#include <string_view>
#include <vector>

namespace grym {

struct WebAsset {
    std::string_view path;         // "/index.html", "/app.js", ...
    std::string_view contentType;  // "text/html; charset=utf-8", ...
    std::string_view bytes;
};

const std::vector<WebAsset>& webAssets();

}  // namespace grym
