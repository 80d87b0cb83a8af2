#pragma once
// Streaming writer for the safetensors format (see safetensors.h; saveSafetensors there writes a
// whole state dict at once). Tensors go to disk one at a time in header order, so a
// multi-gigabyte checkpoint never has to sit in memory at once.
#include <torch/types.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace grym {

struct TensorSpec {
    std::string name;
    torch::ScalarType dtype = torch::kFloat32;
    std::vector<int64_t> shape;
};

class SafetensorsWriter {
public:
    // Writes the header for `specs` (in this order) to a temporary file beside `path`.
    // Throws ModelError naming the file on I/O errors or unsupported dtypes.
    SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs,
                      const std::map<std::string, std::string>& metadata = {});
    ~SafetensorsWriter();
    SafetensorsWriter(const SafetensorsWriter&) = delete;
    SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

    // The next tensor, which must match the next spec's dtype and shape.
    void write(const torch::Tensor& tensor);
    // Checks every tensor was written, flushes, and renames the file into place.
    void finish();

    const std::vector<TensorSpec>& specs() const { return specs_; }
    size_t written() const { return next_; }

private:
    std::string path_, tempPath_;
    std::vector<TensorSpec> specs_;
    std::ofstream out_;
    size_t next_ = 0;
    bool finished_ = false;
};

}  // namespace grym
