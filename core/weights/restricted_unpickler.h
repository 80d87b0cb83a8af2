#pragma once
// A restricted unpickler for the `data.pkl` of a `torch.save` zip checkpoint. It runs no Python
// and calls nothing: it implements only the opcodes real checkpoints use (protocols 2 to 5) and
// recognises exactly these globals:
//   torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter(_with_state),
//   torch._tensor._rebuild_from_type_v2, collections.OrderedDict, and the typed storages
//   torch.FloatStorage, HalfStorage, BFloat16Storage, DoubleStorage, LongStorage, IntStorage,
//   ShortStorage, CharStorage, ByteStorage, BoolStorage (named by persistent ids
//   ('storage', StorageType, key, location, numel)).
// Any other global is an inert placeholder: applying it (REDUCE, NEWOBJ) gives an inert object,
// and a tensor that depends on one is a ModelError. The result is plain records, no torch.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace grym {

struct PickledStorage {
    std::string key;            // the zip entry is <archive>/data/<key>
    std::string typeName;       // "FloatStorage", ...
    std::string dtype;          // safetensors naming: "F32", "F16", "BF16", "F64", "I64", ...
    uint64_t elementBytes = 0;
    uint64_t numel = 0;         // elements the pickle claims (checked against the zip entry later)
    std::string location;       // "cpu", "cuda:0", ... (everything is loaded to the CPU)
};

struct PickledTensor {
    std::string name;           // nested dictionaries are joined with '.', list items by index
    std::string storageKey;
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
    int64_t storageOffset = 0;  // in elements
    bool parameter = false;     // rebuilt as torch.nn.Parameter
};

struct PickledStateDict {
    std::vector<PickledTensor> tensors;                 // in pickle order
    std::map<std::string, PickledStorage> storages;     // by key
    std::set<std::string> inertGlobals;                 // globals seen and never called, for messages
};

// Bounds that keep a hostile pickle from exhausting memory; real checkpoints stay far below.
struct UnpicklerLimits {
    size_t maxValues = 4'000'000;         // objects created
    size_t maxContainerItems = 16'000'000; // list/tuple/dict slots, all containers together
    size_t maxStack = 1'000'000;
    size_t maxMarks = 1'000;               // MARK nesting
    size_t maxMemo = 4'000'000;
    size_t maxNesting = 100;               // dictionary/list depth of tensor names
    size_t maxDimensions = 64;
};

// Reads a pickle whose top object is a (possibly nested) dict of tensors. `where` names the
// pickle in messages. Throws ModelError for malformed input, unsupported opcodes, tensors built
// from anything but the recognised globals, or a limit exceeded.
PickledStateDict unpickleStateDict(const uint8_t* data, size_t size, const std::string& where,
                                   const UnpicklerLimits& limits = {});

}  // namespace grym
