#include "common/json_reader.h"

#include <catch2/catch.hpp>

#include <functional>
#include <limits>

using grym::JsonReader;

namespace {

std::string messageOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("JSON text accepts Python's Infinity, -Infinity and NaN outside strings", "[json]") {
    const auto j = grym::parseJsonText(
        R"({"lambda_min_clipped": -Infinity, "max": Infinity, "nan": NaN, "text": "NaN and Infinity"})", "s.json");
    const JsonReader r(j, "s.json");
    CHECK(r.number("lambda_min_clipped") == -std::numeric_limits<double>::max());
    CHECK(r.number("max") == std::numeric_limits<double>::max());
    CHECK_FALSE(r.has("nan"));  // NaN reads as null: absent
    CHECK(r.number("nan", 1.5) == 1.5);
    CHECK(r.string("text") == "NaN and Infinity");
    CHECK_THROWS_AS(grym::parseJsonText("{\"a\": }", "bad.json"), grym::ModelError);
    CHECK_THAT(messageOf([] { grym::readJsonFile("/nonexistent/config.json"); }),
               Catch::Contains("/nonexistent/config.json"));
}

TEST_CASE("a refused field names the source, the field and the value", "[json]") {
    const nlohmann::json j = {{"steps", "ten"}, {"act", "tanh"}, {"n", -4}, {"whole", 2.0}, {"half", 2.5}};
    const JsonReader r(j, "cfg.json");
    CHECK(messageOf([&] { r.integer("steps"); }) == "cfg.json: field 'steps' = \"ten\": expected an integer");
    CHECK(messageOf([&] { r.integer("missing"); }) == "cfg.json: field 'missing' is missing");
    CHECK_THAT(messageOf([&] { r.positive("n", 1); }), Catch::Contains("'n' = -4") && Catch::Contains("positive"));
    CHECK(r.integer("whole") == 2);
    CHECK_THAT(messageOf([&] { r.integer("half"); }), Catch::Contains("'half' = 2.5"));
    enum class Kind { A, B };
    CHECK(r.choice<Kind>("absent", {{"a", Kind::A}, {"b", Kind::B}}, Kind::B) == Kind::B);
    CHECK(messageOf([&] { r.choice<Kind>("act", {{"a", Kind::A}, {"b", Kind::B}}, Kind::A); }) ==
          "cfg.json: field 'act' = \"tanh\": not supported (supported: a, b)");
}

TEST_CASE("the reader throws the error its layer asks for", "[json]") {
    const nlohmann::json j = {{"steps", "ten"}};
    const JsonReader task(j, "task parameters", grym::throwTaskError);
    CHECK_THROWS_AS(task.integer("steps", 1), grym::TaskError);
    const JsonReader config(j, "config.json");
    CHECK_THROWS_AS(config.integer("steps", 1), grym::ModelError);
    CHECK(JsonReader(nlohmann::json(), "none").integer("steps", 3) == 3);  // null reads as {}
    CHECK_THROWS_AS(JsonReader(nlohmann::json::array(), "list.json"), grym::ModelError);
}
