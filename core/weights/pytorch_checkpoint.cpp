// Layout of a torch.save archive (torch/serialization.py, PyTorchStreamWriter): every entry
// sits under one folder (`archive/` or the file's stem): `data.pkl` (the pickled object),
// `data/<key>` (the raw little-endian bytes of each storage), `version`, and since torch 2.x
// `byteorder`. Entries are stored uncompressed and aligned to 64 bytes, so tensors map in place.
#include "weights/pytorch_checkpoint.h"

#include "common/error.h"

#include <algorithm>
#include <limits>

namespace grym {
namespace {

// torch.save before 1.6 (or with _use_new_zipfile_serialization=False) wrote a bare pickle
// stream starting with a protocol opcode and a magic number; before that, a tar archive.
bool looksLikeLegacyTorch(const uint8_t* data, uint64_t size) {
    if (size >= 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5) return true;
    return size >= 262 && std::string(reinterpret_cast<const char*>(data + 257), 5) == "ustar";
}

// a * b, or false when it exceeds `limit`.
bool multiplyWithin(uint64_t a, uint64_t b, uint64_t limit, uint64_t& out) {
    if (a != 0 && b > limit / a) return false;
    out = a * b;
    return true;
}

}  // namespace

PytorchCheckpoint::PytorchCheckpoint(const std::string& path, const UnpicklerLimits& limits) : path_(path) {
    file_ = std::make_shared<MappedFile>(path);
    open(limits);
}

PytorchCheckpoint::PytorchCheckpoint(std::vector<uint8_t> bytes, const std::string& name, const UnpicklerLimits& limits)
    : path_(name) {
    file_ = std::make_shared<MappedFile>(std::move(bytes));
    open(limits);
}

void PytorchCheckpoint::open(const UnpicklerLimits& limits) {
    const uint8_t* data = file_->data();
    const uint64_t size = file_->size();
    if (!looksLikeZip(data, size)) {
        if (looksLikeLegacyTorch(data, size))
            throw ModelError(path_ + ": is in PyTorch's legacy (pre-1.6) serialization format, which grym-synth does not read. "
                             "Re-save it with a recent torch (torch.save(torch.load(f, map_location='cpu'), f)) "
                             "or convert it to .safetensors");
        throw ModelError(path_ + ": is not a PyTorch checkpoint (torch.save writes a zip archive; this file does not start with one)");
    }
    const ZipArchive archive(file_, path_);

    // data.pkl sits one folder deep; the folder name varies with the torch version and file name.
    std::string prefix;
    int found = 0;
    bool torchScript = false;
    for (const auto& entry : archive.entries()) {
        const auto slash = entry.name.find('/');
        if (slash == std::string::npos) continue;
        const std::string rest = entry.name.substr(slash + 1);
        if (rest == "data.pkl") {
            prefix = entry.name.substr(0, slash + 1);
            ++found;
        }
        if (rest == "constants.pkl") torchScript = true;
    }
    if (found == 0)
        throw ModelError(path_ + (torchScript ? ": is a TorchScript archive (torch.jit.save), not a torch.save state dict"
                                              : ": is a zip archive without data.pkl, so not a torch.save checkpoint"));
    if (found > 1) throw ModelError(path_ + ": holds more than one data.pkl");
    if (const ZipEntry* order = archive.find(prefix + "byteorder")) {
        const ZipBytes bytes = archive.storedBytes(*order);
        const std::string text(reinterpret_cast<const char*>(bytes.data), static_cast<size_t>(std::min<uint64_t>(bytes.size, 16)));
        if (text != "little")
            throw ModelError(path_ + ": stores tensors in '" + text + "' byte order; only little-endian checkpoints are read");
    }

    const ZipBytes pickle = archive.storedBytes(*archive.find(prefix + "data.pkl"));
    state_ = unpickleStateDict(pickle.data, static_cast<size_t>(pickle.size), path_ + " (" + prefix + "data.pkl)", limits);
    if (state_.tensors.empty()) {
        std::string note;
        for (const auto& g : state_.inertGlobals) note += (note.empty() ? "" : ", ") + g;
        throw ModelError(path_ + ": holds no tensors" +
                         (note.empty() ? std::string() : " (it refers to " + note + ", which grym-synth never runs)"));
    }

    for (const auto& [key, storage] : state_.storages) {
        const std::string entryName = prefix + "data/" + key;
        const ZipEntry* entry = archive.find(entryName);
        if (!entry) throw ModelError(path_ + ": storage '" + key + "' has no entry " + entryName + " in the archive");
        const ZipBytes bytes = archive.storedBytes(*entry);
        uint64_t needed = 0;
        if (!multiplyWithin(storage.numel, storage.elementBytes, std::numeric_limits<uint64_t>::max(), needed) ||
            needed != bytes.size)
            throw ModelError(path_ + ": storage '" + key + "' claims " + std::to_string(storage.numel) + " elements of " +
                             storage.typeName + " but its entry holds " + std::to_string(bytes.size) + " bytes");
        storageBytes_[key] = bytes;
    }
    for (const auto& tensor : state_.tensors) checkTensor(tensor);
}

// A tensor reads elements offset + sum(index_i * stride_i) for index_i < size_i; all of them
// must lie inside its storage.
void PytorchCheckpoint::checkTensor(const PickledTensor& tensor) const {
    const PickledStorage& storage = state_.storages.at(tensor.storageKey);
    const std::string where = path_ + ": tensor '" + tensor.name + "' ";
    const uint64_t available = storage.numel;
    const uint64_t offset = static_cast<uint64_t>(tensor.storageOffset);
    bool empty = false;
    for (int64_t size : tensor.shape) empty = empty || size == 0;
    if (empty) {
        if (offset > available)
            throw ModelError(where + "starts at element " + std::to_string(offset) + " of storage '" + storage.key +
                             "', which has only " + std::to_string(available));
        return;
    }
    uint64_t last = offset;  // the furthest element the tensor reads
    bool inside = offset < available;
    for (size_t d = 0; inside && d < tensor.shape.size(); ++d) {
        uint64_t reach = 0;
        inside = multiplyWithin(static_cast<uint64_t>(tensor.shape[d] - 1), static_cast<uint64_t>(tensor.strides[d]), available, reach) &&
                 reach < available - last;
        last += inside ? reach : 0;
    }
    if (!inside)
        throw ModelError(where + "(storage offset " + std::to_string(offset) + ", " + std::to_string(tensor.shape.size()) +
                         " dimensions) reaches past the end of storage '" + storage.key + "' (" + std::to_string(available) +
                         " elements): corrupt or hostile checkpoint");
}

ZipBytes PytorchCheckpoint::storageBytes(const std::string& key) const {
    const auto it = storageBytes_.find(key);
    if (it == storageBytes_.end()) throw ModelError(path_ + ": no storage '" + key + "'");
    return it->second;
}

}  // namespace grym
