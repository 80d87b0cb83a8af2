// Opcode meanings follow CPython's Lib/pickletools.py; the persistent-id and rebuild-function
// conventions follow torch/serialization.py and torch/_utils.py. Nothing here runs Python: every
// "call" is either one of the few recognised rebuild functions, interpreted here, or an inert
// placeholder.
#include "weights/restricted_unpickler.h"

#include "common/error.h"

#include <cstring>
#include <limits>

namespace grym {
namespace {

enum class Kind : uint8_t { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Inert, Storage, Tensor };

// Values live in one arena and refer to each other by index, so shared and even cyclic
// references (which pickles can express) need no ownership and free nothing recursively.
struct Value {
    Kind kind = Kind::None;
    int64_t integer = 0;  // Bool/Int: the value; String/Bytes/Global/Inert/Storage: index into texts; Tensor: index into tensors
    double number = 0;
    std::vector<uint32_t> items;  // Tuple/List: elements; Dict: key, value, key, value, ...
};

constexpr uint32_t kUnset = std::numeric_limits<uint32_t>::max();

struct StorageType {
    const char* name;
    const char* dtype;
    uint64_t bytes;
};

const StorageType kStorageTypes[] = {
    {"FloatStorage", "F32", 4}, {"HalfStorage", "F16", 2}, {"BFloat16Storage", "BF16", 2},
    {"DoubleStorage", "F64", 8}, {"LongStorage", "I64", 8}, {"IntStorage", "I32", 4},
    {"ShortStorage", "I16", 2}, {"CharStorage", "I8", 1},  {"ByteStorage", "U8", 1},
    {"BoolStorage", "BOOL", 1},
};

const char* const kTensorRebuilders[] = {
    "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
};

bool isTensorRebuilder(const std::string& name) {
    for (const char* r : kTensorRebuilders)
        if (name == r) return true;
    return false;
}

// Storage keys become zip entry names; torch writes decimal numbers, so allow only a plain word.
bool isPlainKey(const std::string& key) {
    if (key.empty() || key.size() > 64) return false;
    for (char c : key)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return false;
    return true;
}

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, const std::string& where, const UnpicklerLimits& limits)
        : data_(data), size_(size), where_(where), limits_(limits) {}

    PickledStateDict run() {
        const uint32_t top = execute();
        if (values_[top].kind != Kind::Dict)
            throw ModelError(where_ + ": holds " + describe(top) + ", not a state dict (a dictionary of tensors)");
        std::vector<bool> visited(values_.size(), false);
        std::set<std::string> names;
        walk(top, "", 0, visited, names);
        result_.inertGlobals = inertGlobals_;
        return std::move(result_);
    }

private:
    // --- input ---
    [[noreturn]] void fail(const std::string& why) const {
        throw ModelError(where_ + ": byte " + std::to_string(opcodeAt_) + ": " + why);
    }
    const uint8_t* take(size_t n) {
        if (n > size_ - pos_) fail("the pickle ends in the middle of an opcode (truncated file)");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    uint64_t readLe(size_t n) {
        const uint8_t* p = take(n);
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
        return v;
    }
    std::string readText(size_t n) {
        const uint8_t* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }
    std::string readLine() {
        const void* end = std::memchr(data_ + pos_, '\n', size_ - pos_);
        if (!end) fail("GLOBAL name without a line end (truncated file)");
        const size_t n = static_cast<const uint8_t*>(end) - (data_ + pos_);
        std::string line = readText(n);
        ++pos_;
        return line;
    }
    // Python ints of up to 8 bytes, two's complement little-endian (LONG1/LONG4).
    int64_t readLong(size_t n) {
        if (n > 8) fail("an integer of " + std::to_string(n) + " bytes is too large for a checkpoint");
        const uint8_t* p = take(n);
        if (n == 0) return 0;
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
        if (n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t{0} << (8 * n);
        return static_cast<int64_t>(v);
    }
    size_t checkedLength(uint64_t n) {
        if (n > size_ - pos_) fail("a string of " + std::to_string(n) + " bytes runs past the end of the pickle");
        return static_cast<size_t>(n);
    }

    // --- values ---
    uint32_t make(Value v) {
        if (values_.size() >= limits_.maxValues)
            fail("more than " + std::to_string(limits_.maxValues) + " objects (corrupt or hostile pickle)");
        values_.push_back(std::move(v));
        return static_cast<uint32_t>(values_.size() - 1);
    }
    uint32_t makeScalar(Kind kind, int64_t integer = 0, double number = 0) {
        Value v;
        v.kind = kind;
        v.integer = integer;
        v.number = number;
        return make(std::move(v));
    }
    uint32_t makeText(Kind kind, std::string text) {
        texts_.push_back(std::move(text));
        return makeScalar(kind, static_cast<int64_t>(texts_.size() - 1));
    }
    uint32_t makeContainer(Kind kind, std::vector<uint32_t> items) {
        countItems(items.size());
        Value v;
        v.kind = kind;
        v.items = std::move(items);
        return make(std::move(v));
    }
    void countItems(size_t n) {
        itemCount_ += n;
        if (itemCount_ > limits_.maxContainerItems)
            fail("more than " + std::to_string(limits_.maxContainerItems) + " container items (corrupt or hostile pickle)");
    }
    const std::string& text(uint32_t v) const { return texts_[static_cast<size_t>(values_[v].integer)]; }

    std::string describe(uint32_t v) const {
        const Value& value = values_[v];
        switch (value.kind) {
            case Kind::None: return "None";
            case Kind::Bool: return value.integer ? "True" : "False";
            case Kind::Int: return "the integer " + std::to_string(value.integer);
            case Kind::Float: return "a float";
            case Kind::String: return "the string '" + text(v).substr(0, 80) + "'";
            case Kind::Bytes: return "a bytes object";
            case Kind::Tuple: return "a tuple of " + std::to_string(value.items.size()) + " items";
            case Kind::List: return "a list";
            case Kind::Dict: return "a dict";
            case Kind::Global: return "the global " + text(v);
            case Kind::Inert: return "a call to " + text(v) + " (never run)";
            case Kind::Storage: return "a storage";
            case Kind::Tensor: return "a tensor";
        }
        return "an object";
    }

    // --- stack, marks, memo ---
    size_t stackFloor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(uint32_t v) {
        if (stack_.size() >= limits_.maxStack)
            fail("the stack grows past " + std::to_string(limits_.maxStack) + " entries (corrupt or hostile pickle)");
        stack_.push_back(v);
    }
    uint32_t pop() {
        if (stack_.size() <= stackFloor()) fail("stack underflow (corrupt pickle)");
        const uint32_t v = stack_.back();
        stack_.pop_back();
        return v;
    }
    uint32_t top() const {
        if (stack_.size() <= stackFloor()) fail("stack underflow (corrupt pickle)");
        return stack_.back();
    }
    std::vector<uint32_t> popToMark() {
        if (marks_.empty()) fail("an opcode needs a MARK that was never set (corrupt pickle)");
        const size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }
    void memoPut(uint64_t index) {
        if (index >= limits_.maxMemo) fail("memo index " + std::to_string(index) + " is beyond the limit");
        if (index >= memo_.size()) memo_.resize(static_cast<size_t>(index) + 1, kUnset);
        if (memo_[index] == kUnset) ++memoCount_;
        memo_[index] = top();
    }
    uint32_t memoGet(uint64_t index) const {
        if (index >= memo_.size() || memo_[index] == kUnset)
            fail("memo entry " + std::to_string(index) + " is read before it is written (corrupt pickle)");
        return memo_[index];
    }

    // --- container mutation ---
    void appendTo(uint32_t target, const std::vector<uint32_t>& items, const char* opcode) {
        Value& t = values_[target];
        if (t.kind == Kind::Inert) return;  // an unknown object's own contents are never interpreted
        if (t.kind != Kind::List) fail(std::string(opcode) + " on " + describe(target) + ", which is not a list");
        countItems(items.size());
        t.items.insert(t.items.end(), items.begin(), items.end());
    }
    void setItems(uint32_t target, const std::vector<uint32_t>& keysAndValues, const char* opcode) {
        if (keysAndValues.size() % 2) fail(std::string(opcode) + " with a key that has no value");
        Value& t = values_[target];
        if (t.kind == Kind::Inert) return;
        if (t.kind != Kind::Dict) fail(std::string(opcode) + " on " + describe(target) + ", which is not a dict");
        countItems(keysAndValues.size());
        t.items.insert(t.items.end(), keysAndValues.begin(), keysAndValues.end());
    }

    // --- calls ---
    uint32_t makeInert(uint32_t callable) {
        if (values_[callable].kind == Kind::Global) {
            inertGlobals_.insert(text(callable));
            return makeText(Kind::Inert, text(callable));
        }
        return makeText(Kind::Inert, describe(callable));
    }

    uint32_t reduce(uint32_t callable, uint32_t args) {
        if (values_[callable].kind != Kind::Global) return makeInert(callable);
        const std::string name = text(callable);
        if (name == "collections.OrderedDict") {
            if (values_[args].kind != Kind::Tuple || !values_[args].items.empty())
                fail("collections.OrderedDict is applied to " + describe(args) + "; checkpoints build it empty");
            return makeContainer(Kind::Dict, {});
        }
        if (isTensorRebuilder(name)) return rebuildTensor(name, args, 0);
        return makeInert(callable);
    }

    const std::vector<uint32_t>& tupleItems(uint32_t args, const std::string& function, size_t least) const {
        const Value& a = values_[args];
        if (a.kind != Kind::Tuple || a.items.size() < least)
            fail(function + " needs a tuple of at least " + std::to_string(least) + " arguments, got " + describe(args));
        return a.items;
    }

    int64_t integerArgument(uint32_t v, const std::string& what) const {
        if (values_[v].kind != Kind::Int) fail(what + " is " + describe(v) + ", not an integer");
        if (values_[v].integer < 0) fail(what + " is negative (" + std::to_string(values_[v].integer) + ")");
        return values_[v].integer;
    }

    std::vector<int64_t> integerTuple(uint32_t v, const std::string& what) const {
        const Value& t = values_[v];
        if (t.kind != Kind::Tuple && t.kind != Kind::List) fail(what + " is " + describe(v) + ", not a tuple of integers");
        if (t.items.size() > limits_.maxDimensions)
            fail(what + " has " + std::to_string(t.items.size()) + " dimensions (at most " +
                 std::to_string(limits_.maxDimensions) + " are supported)");
        std::vector<int64_t> out;
        for (size_t i = 0; i < t.items.size(); ++i)
            out.push_back(integerArgument(t.items[i], what + "[" + std::to_string(i) + "]"));
        return out;
    }

    uint32_t rebuildTensor(const std::string& function, uint32_t args, int depth) {
        if (function == "torch._tensor._rebuild_from_type_v2") {
            // (func, type, args, state): the tensor subclass and its Python state are ignored.
            const auto& items = tupleItems(args, function, 3);
            const uint32_t inner = items[0];
            if (depth > 0 || values_[inner].kind != Kind::Global || !isTensorRebuilder(text(inner)))
                fail(function + " wraps " + describe(inner) + ", which is not a tensor rebuild function");
            return rebuildTensor(text(inner), items[2], depth + 1);
        }
        if (function == "torch._utils._rebuild_parameter" || function == "torch._utils._rebuild_parameter_with_state") {
            const uint32_t data = tupleItems(args, function, 1)[0];
            if (values_[data].kind != Kind::Tensor)
                fail("a torch.nn.Parameter is built from " + describe(data) + ", not from a tensor");
            PickledTensor parameter = built_[static_cast<size_t>(values_[data].integer)];
            parameter.parameter = true;
            return addTensor(std::move(parameter));
        }
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        // and the older _rebuild_tensor(storage, storage_offset, size, stride).
        const auto& items = tupleItems(args, function, 4);
        const uint32_t storage = items[0];
        if (values_[storage].kind != Kind::Storage)
            fail("a tensor's storage is " + describe(storage) + ", not a torch storage from the archive");
        PickledTensor tensor;
        tensor.storageKey = text(storage);
        tensor.storageOffset = integerArgument(items[1], "a tensor's storage offset");
        tensor.shape = integerTuple(items[2], "a tensor's size");
        tensor.strides = integerTuple(items[3], "a tensor's stride");
        if (tensor.shape.size() != tensor.strides.size())
            fail("a tensor has " + std::to_string(tensor.shape.size()) + " sizes but " +
                 std::to_string(tensor.strides.size()) + " strides");
        return addTensor(std::move(tensor));
    }

    uint32_t addTensor(PickledTensor tensor) {
        built_.push_back(std::move(tensor));
        return makeScalar(Kind::Tensor, static_cast<int64_t>(built_.size() - 1));
    }

    // torch.save's persistent ids: ('storage', torch.<Type>Storage, key, location, numel).
    uint32_t persistentLoad(uint32_t pid) {
        const Value& id = values_[pid];
        if (id.kind != Kind::Tuple || id.items.size() != 5 || values_[id.items[0]].kind != Kind::String ||
            text(id.items[0]) != "storage")
            fail("persistent id " + describe(pid) + " is not a torch storage reference ('storage', type, key, location, size)");
        const uint32_t type = id.items[1], key = id.items[2], location = id.items[3], numel = id.items[4];
        if (values_[type].kind != Kind::Global) fail("a storage type is " + describe(type) + ", not a torch storage class");
        const StorageType* spec = nullptr;
        for (const auto& s : kStorageTypes)
            if (text(type) == std::string("torch.") + s.name) spec = &s;
        if (!spec) fail("the storage type " + text(type) + " is not supported (float, half, bfloat16, double and integer/bool storages are)");
        if (values_[key].kind != Kind::String || !isPlainKey(text(key)))
            fail("storage key " + describe(key) + " is not a plain name");
        if (values_[location].kind != Kind::String) fail("storage location " + describe(location) + " is not a string");
        PickledStorage storage;
        storage.key = text(key);
        storage.typeName = spec->name;
        storage.dtype = spec->dtype;
        storage.elementBytes = spec->bytes;
        storage.numel = static_cast<uint64_t>(integerArgument(numel, "the size of storage '" + storage.key + "'"));
        storage.location = text(location);
        const auto known = result_.storages.find(storage.key);
        if (known == result_.storages.end()) {
            result_.storages.emplace(storage.key, storage);
        } else if (known->second.typeName != storage.typeName || known->second.numel != storage.numel) {
            fail("storage '" + storage.key + "' is referenced as " + known->second.typeName + " of " +
                 std::to_string(known->second.numel) + " elements and as " + storage.typeName + " of " +
                 std::to_string(storage.numel));
        }
        return makeText(Kind::Storage, storage.key);
    }

    // --- the opcode loop ---
    uint32_t execute() {
        while (true) {
            opcodeAt_ = pos_;
            const uint8_t op = *take(1);
            switch (op) {
                case 0x80: {  // PROTO
                    const uint8_t version = *take(1);
                    if (version < 2 || version > 5)
                        fail("pickle protocol " + std::to_string(version) + " (torch.save writes 2; 2 to 5 are read)");
                    break;
                }
                case 0x95: {  // FRAME: a length prefix for the opcodes that follow; they are read as usual
                    const uint64_t length = readLe(8);
                    if (length > size_ - pos_) fail("a frame of " + std::to_string(length) + " bytes runs past the end");
                    break;
                }
                case '.': {  // STOP
                    const uint32_t result = pop();
                    return result;
                }
                case '(': {  // MARK
                    if (marks_.size() >= limits_.maxMarks)
                        fail("MARKs nested deeper than " + std::to_string(limits_.maxMarks) + " (recursion bomb?)");
                    marks_.push_back(stack_.size());
                    break;
                }
                case '0':  // POP
                    if (stack_.size() > stackFloor()) stack_.pop_back();
                    else if (!marks_.empty()) marks_.pop_back();
                    else fail("POP on an empty stack");
                    break;
                case '1': popToMark(); break;  // POP_MARK
                case '2': push(top()); break;  // DUP
                case 'q': memoPut(readLe(1)); break;  // BINPUT
                case 'r': memoPut(readLe(4)); break;  // LONG_BINPUT
                case 0x94: memoPut(memoCount_); break;  // MEMOIZE
                case 'h': push(memoGet(readLe(1))); break;  // BINGET
                case 'j': push(memoGet(readLe(4))); break;  // LONG_BINGET
                case 'N': push(makeScalar(Kind::None)); break;
                case 0x88: push(makeScalar(Kind::Bool, 1)); break;  // NEWTRUE
                case 0x89: push(makeScalar(Kind::Bool, 0)); break;  // NEWFALSE
                case 'K': push(makeScalar(Kind::Int, static_cast<int64_t>(readLe(1)))); break;  // BININT1
                case 'M': push(makeScalar(Kind::Int, static_cast<int64_t>(readLe(2)))); break;  // BININT2
                case 'J': push(makeScalar(Kind::Int, static_cast<int32_t>(readLe(4)))); break;  // BININT
                case 0x8a: push(makeScalar(Kind::Int, readLong(readLe(1)))); break;  // LONG1
                case 0x8b: push(makeScalar(Kind::Int, readLong(checkedLength(readLe(4))))); break;  // LONG4
                case 'G': {  // BINFLOAT: big-endian IEEE double
                    const uint8_t* p = take(8);
                    uint64_t bits = 0;
                    for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
                    double d;
                    std::memcpy(&d, &bits, sizeof d);
                    push(makeScalar(Kind::Float, 0, d));
                    break;
                }
                case 'X': push(makeText(Kind::String, readText(checkedLength(readLe(4))))); break;  // BINUNICODE
                case 0x8c: push(makeText(Kind::String, readText(checkedLength(readLe(1))))); break;  // SHORT_BINUNICODE
                case 0x8d: push(makeText(Kind::String, readText(checkedLength(readLe(8))))); break;  // BINUNICODE8
                case 'T': push(makeText(Kind::String, readText(checkedLength(readLe(4))))); break;  // BINSTRING
                case 'U': push(makeText(Kind::String, readText(checkedLength(readLe(1))))); break;  // SHORT_BINSTRING
                case 'B': push(makeText(Kind::Bytes, readText(checkedLength(readLe(4))))); break;  // BINBYTES
                case 'C': push(makeText(Kind::Bytes, readText(checkedLength(readLe(1))))); break;  // SHORT_BINBYTES
                case 0x8e: push(makeText(Kind::Bytes, readText(checkedLength(readLe(8))))); break;  // BINBYTES8
                case 'c': {  // GLOBAL module\nname\n
                    std::string module = readLine();
                    std::string name = readLine();
                    if (module.empty() || name.empty()) fail("GLOBAL with an empty module or name");
                    push(makeText(Kind::Global, module + "." + name));
                    break;
                }
                case 0x93: {  // STACK_GLOBAL
                    const uint32_t name = pop(), module = pop();
                    if (values_[name].kind != Kind::String || values_[module].kind != Kind::String ||
                        text(name).empty() || text(module).empty())
                        fail("STACK_GLOBAL needs a module and a name string");
                    push(makeText(Kind::Global, text(module) + "." + text(name)));
                    break;
                }
                case '}': push(makeContainer(Kind::Dict, {})); break;   // EMPTY_DICT
                case ']': push(makeContainer(Kind::List, {})); break;   // EMPTY_LIST
                case ')': push(makeContainer(Kind::Tuple, {})); break;  // EMPTY_TUPLE
                case 0x8f: push(makeContainer(Kind::List, {})); break;  // EMPTY_SET (kept as a list)
                case 't': push(makeContainer(Kind::Tuple, popToMark())); break;  // TUPLE
                case 'l': push(makeContainer(Kind::List, popToMark())); break;   // LIST
                case 0x91: push(makeContainer(Kind::Tuple, popToMark())); break;  // FROZENSET
                case 'd': {  // DICT
                    auto items = popToMark();
                    if (items.size() % 2) fail("DICT with a key that has no value");
                    push(makeContainer(Kind::Dict, std::move(items)));
                    break;
                }
                case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
                    std::vector<uint32_t> items(static_cast<size_t>(op - 0x84));
                    for (size_t i = items.size(); i-- > 0;) items[i] = pop();
                    push(makeContainer(Kind::Tuple, std::move(items)));
                    break;
                }
                case 'a': {  // APPEND
                    const uint32_t item = pop();
                    appendTo(top(), {item}, "APPEND");
                    break;
                }
                case 'e': case 0x90: {  // APPENDS, ADDITEMS
                    auto items = popToMark();
                    appendTo(top(), items, op == 'e' ? "APPENDS" : "ADDITEMS");
                    break;
                }
                case 's': {  // SETITEM
                    const uint32_t value = pop(), key = pop();
                    setItems(top(), {key, value}, "SETITEM");
                    break;
                }
                case 'u': {  // SETITEMS
                    auto items = popToMark();
                    setItems(top(), items, "SETITEMS");
                    break;
                }
                case 'R': {  // REDUCE
                    const uint32_t args = pop(), callable = pop();
                    push(reduce(callable, args));
                    break;
                }
                case 0x81: {  // NEWOBJ cls.__new__(cls, *args): never run
                    pop();
                    push(makeInert(pop()));
                    break;
                }
                case 0x92: {  // NEWOBJ_EX
                    pop();
                    pop();
                    push(makeInert(pop()));
                    break;
                }
                case 'b':  // BUILD: setting an object's state; tensors and dicts keep theirs as read
                    pop();
                    top();
                    break;
                case 'Q': {  // BINPERSID
                    push(persistentLoad(pop()));
                    break;
                }
                default: {
                    static const char* hex = "0123456789abcdef";
                    std::string code = {'0', 'x', hex[op >> 4], hex[op & 15]};
                    fail("unsupported pickle opcode " + code +
                         " (not one torch.save writes; re-save the checkpoint with torch.save)");
                }
            }
        }
    }

    // --- the state dict ---
    void walk(uint32_t v, const std::string& prefix, size_t depth, std::vector<bool>& visited, std::set<std::string>& names) {
        const Value& value = values_[v];
        auto child = [&](const std::string& key) { return prefix.empty() ? key : prefix + "." + key; };
        switch (value.kind) {
            case Kind::Tensor: {
                if (!names.insert(prefix).second) throw ModelError(where_ + ": two tensors are named '" + prefix + "'");
                PickledTensor tensor = built_[static_cast<size_t>(value.integer)];
                tensor.name = prefix;
                result_.tensors.push_back(std::move(tensor));
                return;
            }
            case Kind::Inert:
                // Tensors of kinds we cannot read (quantised, sparse, ...) must not vanish silently.
                if (text(v).rfind("torch.", 0) == 0)
                    throw ModelError(where_ + ": '" + prefix + "' is built by " + text(v) +
                                     ", which grym-synth does not support (only dense tensors with typed storages)");
                return;
            case Kind::Dict: case Kind::List: case Kind::Tuple: {
                if (visited[v]) return;  // a container reached twice (shared or cyclic) is walked once
                visited[v] = true;
                if (depth >= limits_.maxNesting)
                    throw ModelError(where_ + ": '" + prefix + "' is nested deeper than " +
                                     std::to_string(limits_.maxNesting) + " levels (recursion bomb?)");
                if (value.kind == Kind::Dict) {
                    for (size_t i = 0; i + 1 < value.items.size(); i += 2) {
                        const uint32_t key = value.items[i];
                        if (values_[key].kind == Kind::String) walk(value.items[i + 1], child(text(key)), depth + 1, visited, names);
                        else if (values_[key].kind == Kind::Int)
                            walk(value.items[i + 1], child(std::to_string(values_[key].integer)), depth + 1, visited, names);
                    }
                } else {
                    for (size_t i = 0; i < value.items.size(); ++i)
                        walk(value.items[i], child(std::to_string(i)), depth + 1, visited, names);
                }
                return;
            }
            default:
                return;  // numbers, strings, None, globals: metadata beside the tensors
        }
    }

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    size_t opcodeAt_ = 0;
    std::string where_;
    UnpicklerLimits limits_;
    std::vector<Value> values_;
    std::vector<std::string> texts_;
    std::vector<uint32_t> stack_;
    std::vector<size_t> marks_;
    std::vector<uint32_t> memo_;
    uint64_t memoCount_ = 0;
    size_t itemCount_ = 0;
    std::vector<PickledTensor> built_;  // every tensor rebuilt, named or not
    PickledStateDict result_;
    std::set<std::string> inertGlobals_;
};

}  // namespace

PickledStateDict unpickleStateDict(const uint8_t* data, size_t size, const std::string& where, const UnpicklerLimits& limits) {
    Unpickler unpickler(data, size, where, limits);
    return unpickler.run();
}

}  // namespace grym
