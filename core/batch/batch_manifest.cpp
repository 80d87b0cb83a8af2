#include "batch/batch_manifest.h"

#include "common/json_reader.h"
#include "common/strings.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace grym::batch {

namespace {

const std::vector<std::string>& manifestFields() {
    static const std::vector<std::string> fields = {"id",    "prompt",    "negative_prompt", "seconds",
                                                    "steps", "guidance",  "scheduler",       "seed",
                                                    "takes", "model",     "precision"};
    return fields;
}

std::string fieldList() {
    std::string list;
    for (const auto& f : manifestFields()) list += (list.empty() ? "" : ", ") + f;
    return list;
}

// A refused field ends the line: its message already names the line and the field.
class LineRejected : public ApiError {
public:
    using ApiError::ApiError;
};
[[noreturn]] void throwLineRejected(const FieldRejection& rejection) { throw LineRejected(rejection.message()); }

// Output names are file names on every system a batch may run on, and never hidden files.
bool isUsableId(const std::string& id) {
    if (id.empty() || id.size() > 128 || id[0] == '.' || id[0] == '-') return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// validate() names the request's fields; a manifest calls the duration "seconds".
std::string manifestFieldName(const std::string& requestField) {
    return requestField == "duration" ? "seconds" : requestField;
}

ManifestLine readLine(const nlohmann::json& fields, const std::string& where, const ClipDefaults& defaults,
                      const ApiLimits& limits) {
    const JsonReader line(fields, where, throwLineRejected);
    const auto& known = manifestFields();
    for (auto it = fields.begin(); it != fields.end(); ++it)
        if (std::find(known.begin(), known.end(), it.key()) == known.end())
            line.reject(it.key(), "not a manifest field (fields: " + fieldList() + ")");

    ManifestLine out;
    const nlohmann::json& id = line.at("id");
    if (id.is_number_integer() || id.is_number_unsigned()) out.id = id.dump();
    else out.id = line.string("id");
    if (!isUsableId(out.id))
        line.reject("id", "must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' or '-'");

    out.request = defaults.request;
    out.request.seed.reset();
    out.request.variations = 1;
    out.request.prompt = line.string("prompt");
    out.request.negativePrompt = line.string("negative_prompt", defaults.request.negativePrompt);
    out.request.durationSeconds = line.number("seconds", defaults.request.durationSeconds);
    out.request.steps = static_cast<int>(line.integer("steps", defaults.request.steps));
    out.request.guidanceScale = line.number("guidance", defaults.request.guidanceScale);
    out.request.scheduler = line.string("scheduler", defaults.request.scheduler);
    if (line.has("seed")) out.request.seed = line.integer("seed");
    const int64_t takes = line.integer("takes", defaults.takes);
    if (takes < 1 || takes > kMaxTakes) line.reject("takes", "must be between 1 and " + std::to_string(kMaxTakes));
    out.takes = static_cast<int>(takes);
    out.model = line.string("model", defaults.model);
    out.precision = defaults.precision;
    if (line.has("precision")) {
        try {
            out.precision = parsePrecisionName(line.string("precision"));
        } catch (const ApiError&) {
            line.reject("precision", "must be fp32, fp16, bf16, int8 or int4");
        }
    }
    try {
        validate(out.request, limits);
    } catch (const FieldError& e) {
        const std::string field = manifestFieldName(e.field());
        // FieldError's text is "FIELD: why"; keep the why and name the manifest's field.
        const std::string why = std::string(e.what()).substr(e.field().size() + 2);
        if (line.has(field)) line.reject(field, why);
        throw LineRejected(where + ": field '" + field + "' " + why +
                           (line.has(field) ? "" : " (the value comes from the command line)"));
    }
    if (out.request.seed && takes > 1 && *out.request.seed > INT64_MAX - takes)
        line.reject("seed", "is too large for " + std::to_string(takes) + " takes (seed, seed+1, ...)");
    return out;
}

std::string lineSource(const std::string& source, size_t lineNumber) {
    return source + " line " + std::to_string(lineNumber);
}

// Adds an entry's line or problem, and refuses an id (or output name) already taken.
class ManifestBuilder {
public:
    ManifestBuilder(Manifest& manifest, const ClipDefaults& defaults, const ApiLimits& limits)
        : manifest_(manifest), defaults_(defaults), limits_(limits) {}

    void addParsed(const nlohmann::json& fields, size_t lineNumber) {
        const size_t entry = manifest_.entries++;
        const std::string where = lineSource(manifest_.source, lineNumber);
        try {
            ManifestLine line = readLine(fields, where, defaults_, limits_);
            line.lineNumber = lineNumber;
            line.entry = entry;
            claimNames(line, where);
            manifest_.lines.push_back(std::move(line));
        } catch (const Error& e) {
            manifest_.problems.push_back({lineNumber, entry, e.what()});
        }
    }

    void addProblem(size_t lineNumber, const std::string& why) {
        const size_t entry = manifest_.entries++;
        manifest_.problems.push_back({lineNumber, entry, lineSource(manifest_.source, lineNumber) + ": " + why});
    }

private:
    void claimNames(const ManifestLine& line, const std::string& where) {
        if (auto it = ids_.find(line.id); it != ids_.end())
            throw LineRejected(where + ": id '" + line.id + "' is already used on line " + std::to_string(it->second));
        std::vector<std::string> stems;
        for (int take = 1; take <= line.takes; ++take) {
            stems.push_back(clipStem(line.id, take, line.takes));
            if (auto it = stems_.find(stems.back()); it != stems_.end())
                throw LineRejected(where + ": its output " + stems.back() + " is also written by line " +
                                   std::to_string(it->second));
        }
        ids_[line.id] = line.lineNumber;
        for (auto& stem : stems) stems_[stem] = line.lineNumber;
    }

    Manifest& manifest_;
    const ClipDefaults& defaults_;
    const ApiLimits& limits_;
    std::map<std::string, size_t> ids_, stems_;
};

bool isBlank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

void parseJsonLines(const std::string& text, ManifestBuilder& builder, const std::string& source) {
    std::istringstream lines(text);
    size_t lineNumber = 0;
    for (std::string line; std::getline(lines, line);) {
        ++lineNumber;
        if (isBlank(line)) continue;
        nlohmann::json fields;
        try {
            fields = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            // nlohmann's text starts "[json.exception.parse_error.101] parse error at line 1, column N: ..."
            std::string why = e.what();
            if (auto column = why.find("column"); column != std::string::npos) why = why.substr(column);
            builder.addProblem(lineNumber, "not a JSON object (" + why + ")");
            continue;
        }
        if (!fields.is_object()) {
            builder.addProblem(lineNumber, "not a JSON object");
            continue;
        }
        builder.addParsed(fields, lineNumber);
    }
}

// One CSV record (RFC 4180: fields in double quotes may hold commas, newlines and "" for a quote).
struct CsvRecord {
    size_t lineNumber = 0;
    std::vector<std::string> cells;
    std::string problem;  // empty when the record is well formed
};

std::vector<CsvRecord> splitCsv(const std::string& text) {
    std::vector<CsvRecord> records;
    size_t line = 1, i = 0;
    while (i < text.size()) {
        CsvRecord record;
        record.lineNumber = line;
        std::string cell;
        bool atCellStart = true, quoted = false, endOfRecord = false;
        while (i < text.size() && !endOfRecord) {
            const char c = text[i++];
            if (quoted) {
                if (c == '"' && i < text.size() && text[i] == '"') {
                    cell += '"';
                    ++i;
                } else if (c == '"') {
                    quoted = false;
                    if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r' && record.problem.empty())
                        record.problem = "text after a closing quote in field " + std::to_string(record.cells.size() + 1);
                } else {
                    if (c == '\n') ++line;
                    cell += c;
                }
                continue;
            }
            if (c == '"' && atCellStart) {
                quoted = true;
                atCellStart = false;
            } else if (c == ',') {
                record.cells.push_back(std::move(cell));
                cell.clear();
                atCellStart = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i < text.size() && text[i] == '\n') ++i;
                ++line;
                endOfRecord = true;
            } else {
                cell += c;
                atCellStart = false;
            }
        }
        if (quoted) record.problem = "a quoted field is not closed";
        record.cells.push_back(std::move(cell));
        const bool blank = record.cells.size() == 1 && isBlank(record.cells[0]);
        if (!blank) records.push_back(std::move(record));
    }
    return records;
}

// A CSV cell as the JSON value a JSON Lines manifest would hold: numbers for the numeric
// columns when the cell is one (otherwise the text, which the reader refuses with the value).
nlohmann::json cellValue(const std::string& column, const std::string& cell) {
    static const std::set<std::string> numeric = {"seconds", "steps", "guidance", "seed", "takes"};
    if (!numeric.count(column)) return cell;
    const char* begin = cell.c_str();
    char* end = nullptr;
    errno = 0;
    const long long whole = std::strtoll(begin, &end, 10);
    if (errno == 0 && end != begin && *end == '\0') return static_cast<int64_t>(whole);
    errno = 0;
    const double number = std::strtod(begin, &end);
    if (errno == 0 && end != begin && *end == '\0') return number;
    return cell;
}

void parseCsv(const std::string& text, ManifestBuilder& builder, const std::string& source) {
    std::vector<CsvRecord> records = splitCsv(text);
    if (records.empty()) return;
    const CsvRecord& header = records.front();
    if (!header.problem.empty()) throw ApiError(source + " line 1 (the header): " + header.problem);
    std::vector<std::string> columns;
    const auto& known = manifestFields();
    for (std::string name : header.cells) {
        const auto first = name.find_first_not_of(" \t"), last = name.find_last_not_of(" \t");
        name = first == std::string::npos ? "" : name.substr(first, last - first + 1);
        if (std::find(known.begin(), known.end(), name) == known.end())
            throw ApiError(source + " line 1 (the header): column '" + name + "' is not a manifest field (fields: " +
                           fieldList() + ")");
        if (std::find(columns.begin(), columns.end(), name) != columns.end())
            throw ApiError(source + " line 1 (the header): column '" + name + "' appears twice");
        columns.push_back(name);
    }
    for (const char* required : {"id", "prompt"})
        if (std::find(columns.begin(), columns.end(), required) == columns.end())
            throw ApiError(source + " line 1 (the header): no '" + required + "' column");
    for (size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& record = records[r];
        if (!record.problem.empty()) {
            builder.addProblem(record.lineNumber, record.problem);
            continue;
        }
        if (record.cells.size() != columns.size()) {
            builder.addProblem(record.lineNumber, std::to_string(record.cells.size()) + " fields where the header has " +
                                                      std::to_string(columns.size()));
            continue;
        }
        nlohmann::json fields = nlohmann::json::object();
        for (size_t c = 0; c < columns.size(); ++c)
            if (!record.cells[c].empty()) fields[columns[c]] = cellValue(columns[c], record.cells[c]);
        builder.addParsed(fields, record.lineNumber);
    }
}

}  // namespace

ManifestFormat manifestFormatFor(const std::string& path) {
    std::string lower = path;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return endsWith(lower, ".csv") ? ManifestFormat::Csv : ManifestFormat::JsonLines;
}

Manifest parseManifest(const std::string& text, const std::string& source, ManifestFormat format,
                       const ClipDefaults& defaults, const ApiLimits& limits) {
    Manifest manifest;
    manifest.source = source;
    manifest.format = format;
    ManifestBuilder builder(manifest, defaults, limits);
    if (format == ManifestFormat::Csv) parseCsv(text, builder, source);
    else parseJsonLines(text, builder, source);
    return manifest;
}

Manifest readManifest(const std::string& path, const ClipDefaults& defaults, const ApiLimits& limits) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ApiError("cannot read the manifest " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ApiError("cannot read the manifest " + path);
    return parseManifest(text.str(), path, manifestFormatFor(path), defaults, limits);
}

std::string clipStem(const std::string& id, int take, int takes) {
    return takes == 1 ? id : id + "-" + std::to_string(take);
}

Precision parsePrecisionName(const std::string& name) {
    for (Precision p : {Precision::Fp32, Precision::Fp16, Precision::Bf16, Precision::Int8, Precision::Int4})
        if (name == toString(p)) return p;
    throw ApiError("precision '" + name + "' is not one of fp32, fp16, bf16, int8, int4");
}

}  // namespace grym::batch
