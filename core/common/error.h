#pragma once
// Every layer throws its own subclass of grym::Error, whose what() is a message a
// user can read (it names the file, field or parameter and the cause).
#include <stdexcept>
#include <string>

namespace grym {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Audio files, buffers and DSP (core/audio, core/analysis).
class AudioError : public Error {
public:
    using Error::Error;
};

// Checkpoints, configs and model code (core/weights, core/models, core/golden).
class ModelError : public Error {
public:
    using Error::Error;
};

// Task queue, router, services (core/orchestration).
class TaskError : public Error {
public:
    using Error::Error;
};

// AudioApi parameter validation and the HTTP layer (core/api).
class ApiError : public Error {
public:
    using Error::Error;
};

}  // namespace grym
