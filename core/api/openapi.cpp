#include "api/http_server.h"

namespace grym {

namespace {

nlohmann::json errorResponse(const char* description) {
    return {{"description", description},
            {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

nlohmann::json queryParameter(const char* name, nlohmann::json schema, const char* description) {
    return {{"name", name}, {"in", "query"}, {"required", false}, {"schema", std::move(schema)}, {"description", description}};
}

nlohmann::json taskIdParameter() {
    return nlohmann::json::array({{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "integer"}}}}});
}

}  // namespace

nlohmann::json openApiDocument() {
    using J = nlohmann::json;
    J generate = {
        {"type", "object"},
        {"required", J::array({"prompt"})},
        {"additionalProperties", false},
        {"properties",
         {{"prompt", {{"type", "string"}, {"description", "what to generate"}}},
          {"negative_prompt", {{"type", "string"}}},
          {"duration", {{"type", "number"}, {"default", 5.0}, {"description", "seconds"}}},
          {"steps", {{"type", "integer"}, {"default", 10}}},
          {"guidance", {{"type", "number"}, {"default", 2.5}}},
          {"seed", {{"type", "integer"}}},
          {"scheduler", {{"type", "string"}, {"enum", J::array({"ddim", "dpm++"})}}},
          {"variations", {{"type", "integer"}, {"default", 1},
                          {"description", "clips to make, one task each with seeds seed, seed+1, ... (answer: ids)"}}},
          {"sample_rate", {{"type", "integer"}, {"enum", J::array({16000, 44100, 48000})}}},
          {"loop", {{"type", "boolean"}, {"default", false},
                    {"description", "a seamless loop: the end flows into the start (result metrics: loop_point)"}}},
          {"inpaint", {{"type", "integer"},
                       {"description", "id of a finished task whose clip to edit: only `range` is regenerated"}}},
          {"range", {{"type", "string"}, {"example", "2.0:3.5"},
                     {"description", "with inpaint: START:END in seconds of the clip to regenerate"}}},
          {"continue", {{"type", "integer"},
                        {"description", "id of a finished task whose clip to continue by `duration` seconds"}}}}}};
    J accepted = {{"description", "task accepted"},
                  {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Accepted"}}}}}}}};
    J doc = {
        {"openapi", "3.0.3"},
        {"info",
         {{"title", "grym-synth local API"},
          {"version", GRYM_VERSION},
          {"description", "Text-to-audio generation (AudioLDM) and audio analysis (wav2vec2) on this computer. "
                          "Send 'Authorization: Bearer TOKEN' when the server was started with a token. "
                          "A browser page for these routes is served at / (no token needed for the page itself)."}}},
        {"paths",
         {{"/v1/generate",
           {{"post",
             {{"summary", "Start a text-to-audio generation (longer than the model's window, a loop, or an edit of a "
                          "finished clip: inpaint a range or continue it)"},
              {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", generate}}}}}}},
              {"responses", {{"202", accepted}, {"400", errorResponse("invalid field")}, {"429", errorResponse("too many tasks")}}}}}}},
          {"/v1/analyze",
           {{"post",
             {{"summary", "Analyse an uploaded audio file (WAV, FLAC, OGG, MP3, AIFF)"},
              {"requestBody",
               {{"required", true},
                {"content",
                 {{"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
                  {"multipart/form-data",
                   {{"schema", {{"type", "object"}, {"properties", {{"file", {{"type", "string"}, {"format", "binary"}}}}}}}}}}}}},
              {"responses",
               {{"202", accepted}, {"400", errorResponse("no audio")}, {"413", errorResponse("upload too large")},
                {"422", errorResponse("unreadable audio")}}}}}}},
          {"/v1/tasks", {{"get", {{"summary", "Recent tasks, newest first"}, {"responses", {{"200", {{"description", "task list"}}}}}}}}},
          {"/v1/tasks/{id}",
           {{"get", {{"summary", "State, progress and result of a task"}, {"parameters", taskIdParameter()},
                     {"responses", {{"200", {{"description", "task"}}}, {"404", errorResponse("unknown task")}}}}},
            {"delete", {{"summary", "Cancel a task"}, {"parameters", taskIdParameter()},
                        {"responses", {{"200", {{"description", "cancel outcome"}}}, {"404", errorResponse("unknown task")}}}}}}},
          {"/v1/tasks/{id}/variation",
           {{"post",
             {{"summary", "A variation of a finished generation's clip: its settings, the body's fields over them, "
                          "and a new seed unless the body gives one"},
              {"parameters", taskIdParameter()},
              {"requestBody",
               {{"required", false},
                {"content",
                 {{"application/json",
                   {{"schema",
                     {{"type", "object"},
                      {"properties",
                       {{"strength", {{"type", "number"}, {"default", 0.5},
                                      {"description", "how far from the clip, more than 0 and at most 1"}}},
                        {"prompt", {{"type", "string"}}},
                        {"seed", {{"type", "integer"}}},
                        {"steps", {{"type", "integer"}}}}}}}}}}}}},
              {"responses", {{"202", accepted}, {"400", errorResponse("invalid field")},
                             {"409", errorResponse("task not finished or without audio")}}}}}}},
          {"/v1/tasks/{id}/audio",
           {{"get",
             {{"summary", "The generated audio"},
              {"parameters", J::array({taskIdParameter()[0],
                                       {{"name", "format"}, {"in", "query"}, {"schema", {{"type", "string"}, {"enum", J::array({"wav", "flac"})}}}}})},
              {"responses", {{"200", {{"description", "audio file"}}}, {"409", errorResponse("task not finished")}}}}}}},
          {"/v1/tasks/{id}/export",
           {{"get",
             {{"summary", "The clip of a finished task as a file for other tools: trimmed, faded, loudness-normalised, "
                          "as WAV 16/24-bit or float, FLAC or OGG Vorbis (the same export as `grym-synth-cli export` "
                          "and the app's Export dialog). An empty parameter is the same as leaving it out."},
              {"parameters",
               J::array({taskIdParameter()[0],
                         queryParameter("format", {{"type", "string"}, {"enum", J::array({"wav16", "wav24", "wavf", "flac", "ogg"})},
                                                   {"default", "wav24"}},
                                        "WAV 16-bit, WAV 24-bit, WAV 32-bit float, FLAC 24-bit or OGG Vorbis"),
                         queryParameter("start", {{"type", "number"}, {"default", 0}}, "trim: seconds into the clip where the file starts"),
                         queryParameter("end", {{"type", "number"}}, "trim: seconds into the clip where the file ends (default: the clip's end)"),
                         queryParameter("fade_in", {{"type", "number"}, {"default", 0}}, "linear fade-in from silence, in seconds"),
                         queryParameter("fade_out", {{"type", "number"}, {"default", 0}}, "linear fade-out to silence, in seconds"),
                         queryParameter("lufs", {{"type", "number"}, {"minimum", -70}, {"maximum", 0}},
                                        "normalise to this integrated loudness (EBU R128), e.g. -14 or -23")})},
              {"responses",
               {{"200",
                 {{"description",
                   "the file (Content-Disposition names it); X-Export-Duration, X-Export-Peak and X-Export-Clipped "
                   "describe it, and X-Export-Loudness-Before and X-Export-Gain-dB the normalisation when lufs was given"},
                  {"content",
                   {{"audio/wav", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
                    {"audio/flac", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
                    {"audio/ogg", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}}},
                {"400", errorResponse("a parameter that is unknown, not a number, or does not fit the clip (field names it)")},
                {"404", errorResponse("unknown task")},
                {"409", errorResponse("task not finished, or without audio")}}}}}}},
          {"/v1/tasks/{id}/events",
           {{"get", {{"summary", "Progress as Server-Sent Events (event: progress | done)"}, {"parameters", taskIdParameter()},
                     {"responses", {{"200", {{"description", "text/event-stream"}}}}}}}}},
          {"/v1/status", {{"get", {{"summary", "Services, memory and queue"}, {"responses", {{"200", {{"description", "status"}}}}}}}}},
          {"/v1/models",
           {{"get",
             {{"summary", "Installed models (models folder and Hugging Face cache), the folders the services use, "
                          "and the recommended models with whether each is installed"},
              {"responses", {{"200", {{"description", "models"}}}}}}}}}}},
        {"components",
         {{"schemas",
           {{"Error",
             {{"type", "object"},
              {"properties",
               {{"error", {{"type", "object"}, {"properties", {{"message", {{"type", "string"}}}, {"field", {{"type", "string"}}}}}}}}}}},
            {"Accepted",
             {{"type", "object"},
              {"properties", {{"id", {{"type", "integer"}}}, {"state", {{"type", "string"}}}, {"url", {{"type", "string"}}}}}}}}}}}};
    return doc;
}

}  // namespace grym
