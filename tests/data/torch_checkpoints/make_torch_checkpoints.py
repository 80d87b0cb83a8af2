#!/usr/bin/python3
"""Writes the PyTorch checkpoint fixtures of tests/core/weights with a real torch.save.

Run with Debian's python3-torch (PyTorch 1.13): `/usr/bin/python3 make_torch_checkpoints.py`
in this folder. Every checkpoint gets a safetensors twin written here by hand (the format is
an 8-byte little-endian header length, a JSON header and the raw bytes), so the C++ tests can
compare each loaded tensor bit for bit. The twin's metadata records, per tensor, the layout
torch saved (strides, storage offset, which storage), computed from the tensors themselves.
The hostile files are genuine malicious pickles (they would run a command under pickle.load),
packed the way torch.save packs a checkpoint.
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SAFETENSORS_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}
PWNED_MARKER = "/tmp/grym_pickle_fixture_was_executed"


def flat_items(tree, prefix=""):
    """(dotted name, tensor) for every tensor of a nested dict, as the C++ reader names them."""
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from flat_items(value, name)
        elif isinstance(value, torch.Tensor):
            yield name, value


def write_safetensors(path, tree):
    tensors = dict(flat_items(tree))
    storages = {}
    header, blobs, offset = {}, [], 0
    metadata = {}
    for name in sorted(tensors):
        t = tensors[name].detach()
        data = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        storage = storages.setdefault(t.storage().data_ptr(), len(storages))
        metadata[name] = json.dumps({"stride": list(t.stride()), "offset": t.storage_offset(), "storage": storage})
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def mixed_state_dict():
    torch.manual_seed(14)
    base = torch.randn(24)
    base[0], base[1], base[2], base[3] = float("nan"), float("-inf"), -0.0, 1e-45  # bit patterns that must survive
    grid = base.view(4, 6)
    linear = torch.nn.Linear(4, 3)
    return {
        # One storage seen through several views: offsets, non-contiguous strides, stride 0.
        "shared": {
            "base": base,
            "slice": base[5:17],
            "transposed": grid.t(),
            "column": grid[:, 2],
            "every_other": grid[1:, ::2],
        },
        "expanded": torch.arange(3.0).expand(4, 3),
        "half": torch.randn(2, 3).to(torch.float16),
        "bfloat16": torch.randn(5).to(torch.bfloat16),
        "double": torch.randn(2, 2, dtype=torch.float64),
        "int64": torch.tensor([-(2 ** 62), -1, 0, 7, 2 ** 40]),
        "int32": torch.tensor([[1, -2], [3, 2 ** 31 - 1]], dtype=torch.int32),
        "int16": torch.tensor([-300, 300], dtype=torch.int16),
        "int8": torch.tensor([-128, 127], dtype=torch.int8),
        "uint8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "mask": torch.tensor([[True, False, True], [False, False, True]]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "parameter": torch.nn.Parameter(torch.randn(3, 3)),
        # A module's own state dict: an OrderedDict carrying _metadata (pickled through BUILD).
        "linear": linear.state_dict(),
        "encoder": {"layers": {"0": {"weight": torch.randn(2, 2), "bias": torch.randn(2)}}},
        # Things that are not tensors sit beside them in real checkpoints.
        "epoch": 3,
        "learning_rate": 1e-4,
        "note": "fixture",
        "flags": [True, None, 2],
    }


def torch_like_zip(path, pickle_bytes, folder="archive", storages=None):
    """A zip laid out as torch.save lays it out, around a pickle torch never wrote."""
    entries = {"data.pkl": pickle_bytes, **{f"data/{k}": v for k, v in (storages or {}).items()}, "version": b"3\n"}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(f"{folder}/{name}", date_time=(2020, 1, 1, 0, 0, 0)), data)


class Call:
    """Pickles as `fn(*args)`: what a malicious checkpoint uses to run code at load time."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def write_hostile():
    os.makedirs(os.path.join(HERE, "hostile"), exist_ok=True)
    command = f"touch {PWNED_MARKER}"
    # The whole checkpoint is a call to os.system / eval.
    torch_like_zip(os.path.join(HERE, "hostile", "os_system.pt"), pickle.dumps(Call(os.system, command), protocol=2))
    torch_like_zip(os.path.join(HERE, "hostile", "builtins_eval.pt"),
                   pickle.dumps(Call(eval, f"__import__('os').system('{command}')"), protocol=2))
    # A real tensor beside a hostile entry: the tensor loads, the entry stays inert.
    weight = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
    tensor = Call(torch._utils._rebuild_tensor_v2, StoragePid("0", 4), 0, (2, 2), (2, 1), False, collections.OrderedDict())
    state = {"weight": tensor, "payload": Call(os.system, command)}
    torch_like_zip(os.path.join(HERE, "hostile", "inert_beside_tensor.pt"), StoragePickler.dumps(state), storages={"0": weight})
    # A tensor whose storage would come from eval: it must be refused, not built.
    evil = Call(torch._utils._rebuild_tensor_v2, Call(eval, f"__import__('os').system('{command}')"), 0, (1,), (1,),
                False, collections.OrderedDict())
    torch_like_zip(os.path.join(HERE, "hostile", "tensor_from_eval.pt"), pickle.dumps({"weight": evil}, protocol=2))


class StoragePid:
    """Stands for a FloatStorage of the archive: pickled as torch's persistent id."""

    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StoragePid):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None

    @classmethod
    def dumps(cls, obj):
        out = io.BytesIO()
        cls(out, protocol=2).dump(obj)
        return out.getvalue()


def main():
    os.chdir(HERE)
    sd = mixed_state_dict()
    torch.save(sd, "mixed.pt")
    torch.save(sd, "mixed_protocol4.pt", pickle_protocol=4)
    write_safetensors("mixed.safetensors", sd)

    # Model folders under the names the Hugging Face repos use.
    flat = collections.OrderedDict((name, t.detach().clone()) for name, t in flat_items(sd))
    small = collections.OrderedDict((k, flat[k]) for k in ["half", "int64", "shared.base", "shared.transposed", "encoder.layers.0.weight"])
    for folder, stem in [("transformers", "pytorch_model"), ("diffusers", "diffusion_pytorch_model")]:
        os.makedirs(folder, exist_ok=True)
        torch.save(small, f"{folder}/{stem}.bin")
        write_safetensors(f"{folder}/twin.safetensors", small)
    os.makedirs("sharded", exist_ok=True)
    names = list(small)
    shards = {"pytorch_model-00001-of-00002.bin": names[:2], "pytorch_model-00002-of-00002.bin": names[2:]}
    weight_map = {}
    for shard, keys in shards.items():
        torch.save(collections.OrderedDict((k, small[k]) for k in keys), f"sharded/{shard}")
        weight_map.update({k: shard for k in keys})
    with open("sharded/pytorch_model.bin.index.json", "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    write_safetensors("sharded/twin.safetensors", small)

    # The legacy (pre-1.6) format.
    torch.save({"w": torch.ones(2)}, "legacy.pt", _use_new_zipfile_serialization=False)
    write_hostile()


if __name__ == "__main__":
    main()
