#include "weights/module_loader.h"

#include "common/strings.h"

#include "common/error.h"
#include "platform/mapped_file.h"
#include "weights/mapped_tensor.h"

#include <torch/torch.h>

#include <set>
#include <sstream>

namespace grym {

namespace {

std::string shapeString(at::IntArrayRef shape) {
    std::ostringstream os;
    os << "(";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << ")";
    return os.str();
}

torch::Tensor foldPair(const std::string& key, const torch::Tensor& g, const torch::Tensor& v) {
    if (g.dim() != v.dim())
        throw ModelError("weight norm '" + key + "': g has shape " + shapeString(g.sizes()) + " but v has " +
                         shapeString(v.sizes()));
    int64_t normDim = -1;
    for (int64_t d = 0; d < g.dim(); ++d) {
        if (g.size(d) != 1) {
            if (normDim != -1 || g.size(d) != v.size(d))
                throw ModelError("weight norm '" + key + "': g shape " + shapeString(g.sizes()) +
                                 " does not fit v shape " + shapeString(v.sizes()));
            normDim = d;
        }
    }
    if (normDim == -1) {
        // g is all ones in shape: a norm over everything, or dim of size 1; both fold the same way.
        normDim = 0;
    }
    auto vf = v.to(torch::kFloat32);
    std::vector<int64_t> reduce;
    for (int64_t d = 0; d < v.dim(); ++d)
        if (d != normDim) reduce.push_back(d);
    auto norm = reduce.empty() ? vf.abs() : vf.pow(2).sum(reduce, /*keepdim=*/true).sqrt();
    return (vf * (g.to(torch::kFloat32) / norm)).to(v.scalar_type());
}

}  // namespace

void foldWeightNorm(StateDict& weights) {
    std::vector<std::string> keys;
    for (const auto& kv : weights) keys.push_back(kv.first);
    for (const auto& k : keys) {
        std::string base, gKey, vKey;
        if (endsWith(k, ".weight_g")) {
            base = k.substr(0, k.size() - 9);
            gKey = k;
            vKey = base + ".weight_v";
        } else if (endsWith(k, ".parametrizations.weight.original0")) {
            base = k.substr(0, k.size() - 34);
            gKey = k;
            vKey = base + ".parametrizations.weight.original1";
        } else {
            continue;
        }
        auto v = weights.find(vKey);
        if (v == weights.end()) throw ModelError("weight norm: '" + gKey + "' has no matching '" + vKey + "'");
        weights[base + ".weight"] = foldPair(base, weights.at(gKey), v->second);
        weights.erase(vKey);
        weights.erase(gKey);
    }
}

void loadModuleWeights(torch::nn::Module& module, const StateDict& weights, const ModuleWeightOptions& options) {
    const std::string src = options.source.empty() ? std::string("checkpoint") : options.source;
    std::map<std::string, torch::Tensor> targets;
    for (const auto& p : module.named_parameters(/*recurse=*/true)) targets[p.key()] = p.value();
    for (const auto& b : module.named_buffers(/*recurse=*/true)) targets[b.key()] = b.value();

    std::set<std::string> seen;
    torch::NoGradGuard noGrad;
    for (const auto& [rawKey, tensor] : weights) {
        std::string key = rawKey;
        if (!options.stripPrefix.empty()) {
            if (key.rfind(options.stripPrefix, 0) != 0) {
                bool ignored = false;
                for (const auto& s : options.ignoredKeySuffixes) ignored = ignored || endsWith(key, s);
                if (ignored) continue;
                throw ModelError(src + ": unexpected tensor '" + rawKey + "' (expected names under '" +
                                 options.stripPrefix + "')");
            }
            key = key.substr(options.stripPrefix.size());
        }
        auto it = targets.find(key);
        if (it == targets.end()) {
            bool ignored = false;
            for (const auto& s : options.ignoredKeySuffixes) ignored = ignored || endsWith(key, s);
            if (ignored) continue;
            throw ModelError(src + ": unexpected tensor '" + rawKey +
                             "' (the model has no such weight: wrong architecture or config?)");
        }
        if (!it->second.sizes().equals(tensor.sizes()))
            throw ModelError(src + ": tensor '" + rawKey + "' has shape " + shapeString(tensor.sizes()) +
                             " but the model (from its config) expects " + shapeString(it->second.sizes()));
        if (!options.takeTensor || !options.takeTensor(key, tensor)) {
            // A parameter left as a placeholder of its shape (no memory of its own, e.g. a
            // QuantLinear weight) gets its memory now, one tensor at a time.
            if (it->second.numel() > 1 && it->second.storage().nbytes() < it->second.nbytes())
                it->second.set_data(torch::empty(it->second.sizes(), it->second.options()));
            it->second.copy_(tensor);
        }
        if (MappedFile::lostPagesAt(tensor.data_ptr()))
            throw ModelError(src + ": the file changed on disk while it was being read (tensor '" + rawKey +
                             "' lies past its new end: another program truncated or rewrote it); load the model "
                             "again when it is complete");
        releaseMappedPages(tensor);
        seen.insert(key);
    }
    for (const auto& [key, t] : targets) {
        if (!seen.count(key))
            throw ModelError(src + ": missing tensor '" + options.stripPrefix + key + "'");
    }
}

uint64_t moduleParameterBytes(const torch::nn::Module& module) {
    uint64_t n = 0;
    for (const auto& p : module.parameters()) n += static_cast<uint64_t>(p.nbytes());
    for (const auto& b : module.buffers()) n += static_cast<uint64_t>(b.nbytes());
    return n;
}

void checkFinite(const torch::nn::Module& module, const std::string& source) {
    torch::NoGradGuard noGrad;
    for (const auto& p : module.named_parameters(true)) {
        if (p.value().is_floating_point() && !torch::isfinite(p.value()).all().item<bool>())
            throw ModelError(source + ": tensor '" + p.key() + "' holds NaN or Inf values (corrupt checkpoint)");
    }
}

}  // namespace grym
