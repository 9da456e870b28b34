"""Writes PyTorch-format checkpoints (torch.save's zip layout, protocol-2 pickle) with CPython's own pickler and
stand-in torch classes, so the C# reader is checked against bytes it did not produce. Needs only the standard
library; run once (python3 generate.py) and commit the outputs: the tests never run Python.

Weights are small dyadic fractions, exact in float32/bfloat16/float16, so C# can recompute them bit for bit:
  value(tensor_index k, flat_index i) = ((31 * k + i) % 19 - 9) / 32
"""
import collections, json, pickle, struct, sys, types, zipfile, io

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _stand_in(module, name, obj):
    obj.__module__ = module.__name__
    obj.__qualname__ = name
    obj.__name__ = name
    setattr(module, name, obj)
    return obj


for storage in ["FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage"]:
    _stand_in(torch, storage, type(storage, (), {}))
_rebuild_tensor_v2 = _stand_in(torch_utils, "_rebuild_tensor_v2", lambda *a: None)
_rebuild_parameter = _stand_in(torch_utils, "_rebuild_parameter", lambda *a: None)

FORMATS = {"FloatStorage": ("<f", 4), "LongStorage": ("<q", 8), "HalfStorage": ("<e", 2)}


def encode(kind, values):
    if kind == "BFloat16Storage":  # top half of the float32 bits; exact for these values
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    fmt, _ = FORMATS[kind]
    return b"".join(struct.pack(fmt, v) for v in values)


class Storage:
    def __init__(self, key, kind, values):
        self.key, self.kind, self.values = key, kind, values


class Tensor:
    def __init__(self, storage, offset, size, stride, parameter=False):
        self.storage, self.offset, self.size, self.stride, self.parameter = storage, offset, size, stride, parameter

    def __reduce_ex__(self, protocol):
        plain = (_rebuild_tensor_v2, (self.storage, self.offset, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))
        if not self.parameter:
            return plain
        return (_rebuild_parameter, (Tensor(self.storage, self.offset, self.size, self.stride), True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", len(obj.values))
        return None


def value(k, i):
    return ((31 * k + i) % 19 - 9) / 32


def contiguous_strides(shape):
    strides, acc = [], 1
    for n in reversed(shape):
        strides.insert(0, acc)
        acc *= n
    return strides


def save(path, state, storages, root="archive"):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{root}/data.pkl", buf.getvalue())
        z.writestr(f"{root}/byteorder", "little")
        for s in storages:
            z.writestr(f"{root}/data/{s.key}", encode(s.kind, s.values))
        z.writestr(f"{root}/version", "3\n")


def state_dict(shapes, kind="FloatStorage"):
    sd, storages = collections.OrderedDict(), []
    for k, (name, shape) in enumerate(shapes):
        n = 1
        for d in shape:
            n *= d
        s = Storage(str(k), kind, [value(k, i) for i in range(n)])
        storages.append(s)
        sd[name] = Tensor(s, 0, shape, contiguous_strides(shape))
    sd._metadata = collections.OrderedDict({"": {"version": 1}})
    return sd, storages


# 1. A tiny Llama-family model folder (config + pytorch_model.bin), HF names and shapes.
config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8, "intermediate_size": 12,
          "num_attention_heads": 2, "num_key_value_heads": 1, "num_hidden_layers": 2, "vocab_size": 11,
          "max_position_embeddings": 32, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
          "tie_word_embeddings": False}
d, m, v, h, kv = 8, 12, 11, 2, 1
dh = d // h
shapes = [("model.embed_tokens.weight", [v, d])]
for l in range(2):
    p = f"model.layers.{l}."
    shapes += [(p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
               (p + "self_attn.q_proj.weight", [h * dh, d]), (p + "self_attn.k_proj.weight", [kv * dh, d]),
               (p + "self_attn.v_proj.weight", [kv * dh, d]), (p + "self_attn.o_proj.weight", [d, h * dh]),
               (p + "mlp.gate_proj.weight", [m, d]), (p + "mlp.up_proj.weight", [m, d]), (p + "mlp.down_proj.weight", [d, m])]
shapes += [("model.norm.weight", [d]), ("lm_head.weight", [v, d])]
import os
os.makedirs("tiny-llama-bin", exist_ok=True)
sd, storages = state_dict(shapes)
save("tiny-llama-bin/pytorch_model.bin", sd, storages, root="pytorch_model")
with open("tiny-llama-bin/config.json", "w") as f:
    json.dump(config, f, indent=1)
with open("tiny-llama-bin/shapes.json", "w") as f:
    json.dump([[n, s] for n, s in shapes], f)

# 2. Layout corner cases: bf16/f16/int64 storages, a shared storage with offsets and a transposed (strided) view,
#    and a Parameter wrapper.
shared = Storage("shared", "FloatStorage", [value(0, i) for i in range(20)])
bf = Storage("bf", "BFloat16Storage", [value(1, i) for i in range(6)])
hf16 = Storage("h", "HalfStorage", [value(2, i) for i in range(4)])
longs = Storage("l", "LongStorage", [-3, 0, 7, 2 ** 40])
sd = collections.OrderedDict()
sd["a"] = Tensor(shared, 0, [2, 3], [3, 1])
sd["b_offset"] = Tensor(shared, 6, [4], [1])
sd["c_transposed"] = Tensor(shared, 10, [3, 2], [1, 3])
sd["d_bf16"] = Tensor(bf, 0, [2, 3], [3, 1])
sd["e_f16"] = Tensor(hf16, 1, [3], [1])
sd["f_int64"] = Tensor(longs, 0, [4], [1])
sd["g_param"] = Tensor(bf, 2, [2, 2], [2, 1], parameter=True)
save("layouts.bin", sd, [shared, bf, hf16, longs])

# 3. A malicious checkpoint: unpickling it with pickle.load would run os.system("touch ...").
marker = "/tmp/circuitnotebooks-pickle-was-executed"
evil = b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len("touch " + marker)) + ("touch " + marker).encode() + b"\x85q\x01Rq\x02."
with zipfile.ZipFile("malicious.bin", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", evil)
    z.writestr("archive/version", "3\n")
print("wrote tiny-llama-bin/, layouts.bin, malicious.bin")
