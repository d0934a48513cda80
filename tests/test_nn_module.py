"""nn.Module and nn.Parameter: registration, traversal, modes, hooks, scope, state_dict, repr."""

import copy

import numpy as np
import pytest

import autograd as ag
import nn
from autograd._config import state


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(self.block(x).relu())


# ---------------------------------------------------------------------------------------------
# Parameter


def test_parameter_requires_grad_and_keeps_float_dtype():
    p = nn.Parameter(np.zeros(3, dtype=np.float64))
    assert p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert isinstance(p, ag.Tensor)


def test_parameter_converts_python_and_integer_data_to_default_dtype():
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    assert nn.Parameter(np.arange(3)).dtype == np.float32
    ag.set_default_dtype(np.float64)
    assert nn.Parameter([1, 2]).dtype == np.float64


def test_parameter_from_tensor_shares_its_array():
    t = ag.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.data is t.data
    assert nn.Parameter(t, requires_grad=False).requires_grad is False


def test_parameter_repr_and_deepcopy():
    p = nn.Parameter(np.array([1.5], dtype=np.float32))
    assert repr(p).startswith("Parameter containing:\ntensor([1.5")
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.data is not p.data
    np.testing.assert_array_equal(q.data, p.data)


# ---------------------------------------------------------------------------------------------
# registration and traversal


def test_named_parameters_are_dotted_and_in_registration_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "block.bn.weight",
                     "block.bn.bias", "head.weight"]


def test_parameters_buffers_children_and_modules():
    net = Net()
    assert len(list(net.parameters())) == 6
    assert [n for n, _ in net.named_buffers()] == [
        "block.bn.running_mean", "block.bn.running_var", "block.bn.num_batches_tracked"]
    assert list(net.children()) == [net.block, net.head]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn", "head"]
    assert list(net.modules())[2] is net.block.fc
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]


def test_attribute_access_is_ordinary_and_typos_raise():
    net = Net()
    assert net.block.fc.weight.shape == (4, 3)
    with pytest.raises(AttributeError, match="weigth"):
        _ = net.head.weigth


def test_shared_parameters_are_listed_and_counted_once():
    fc = nn.Linear(2, 2)
    seq = nn.Sequential(fc, nn.ReLU(), fc)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 6
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]


def test_reassigning_a_name_moves_it_between_registries():
    m = nn.Module()
    m.x = nn.Parameter(np.zeros(2, dtype=np.float32))
    m.x = nn.Linear(1, 1)
    assert "x" not in m._parameters and "x" in m._modules
    del m.x
    assert not m._modules and not hasattr(m, "x")


def test_assigning_a_tensor_to_a_parameter_name_is_a_type_error():
    fc = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'weight' "
                                        r"\(nn.Parameter or None expected\)"):
        fc.weight = ag.zeros(2, 2)
    fc.bias = None
    assert [n for n, _ in fc.named_parameters()] == ["weight"]


def test_assigning_before_init_names_the_fix():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Broken()


def test_register_buffer_and_module_validate_names():
    m = nn.Module()
    m.register_buffer("stat", np.zeros(2))
    assert isinstance(m.stat, ag.Tensor) and [n for n, _ in m.named_buffers()] == ["stat"]
    with pytest.raises(KeyError, match=r'contain "\.", got: a\.b'):
        m.register_buffer("a.b", ag.zeros(1))
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        m.add_module("train", nn.ReLU())
    with pytest.raises(TypeError, match="buffer 'x'.*Tensor, ndarray or None"):
        m.register_buffer("x", [1, 2])
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        m.register_parameter("w", ag.zeros(1))
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("k", 3)
    with pytest.raises(TypeError, match="as buffer 'stat'"):
        m.stat = 5


def test_non_persistent_buffer_is_not_in_state_dict():
    m = nn.Module()
    m.register_buffer("kept", ag.zeros(1))
    m.register_buffer("scratch", ag.zeros(1), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing the required "
                                                  r"\"forward\" function"):
        nn.Module()(1)


# ---------------------------------------------------------------------------------------------
# modes and gradients


def test_train_and_eval_set_every_module():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("no")


def test_zero_grad_drops_or_zeroes_gradients():
    net = Net()
    net(ag.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_parameters():
    net = Net()
    net.block.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 8
    net(ag.randn(5, 3)).sum().backward()
    assert net.block.fc.weight.grad is None and net.head.weight.grad is not None


def test_apply_visits_children_before_parents():
    seen = []
    net = Net()
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "BatchNorm1d", "Block", "Linear", "Net"]


# ---------------------------------------------------------------------------------------------
# calling: hooks and scope


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    fc = nn.Linear(3, 2)
    calls = []
    handle = fc.register_forward_hook(lambda m, inp, out: calls.append((m, inp, out)))
    x = ag.randn(4, 3)
    y = fc(x)
    assert calls[0][0] is fc and calls[0][1][0] is x and calls[0][2] is y
    handle.remove()
    fc(x)
    assert len(calls) == 1


def test_modules_take_several_inputs_and_keyword_arguments():
    class Affine(nn.Module):
        def forward(self, x, shift, scale=1.0):
            return x * scale + shift

    m, seen = Affine(), []
    m.register_forward_hook(lambda mod, inp, out: seen.append(len(inp)))
    x = ag.tensor([1.0, 2.0])
    np.testing.assert_allclose(m(x, 1.0).data, [2.0, 3.0])
    np.testing.assert_allclose(m(x, 1.0, 3.0).data, [4.0, 7.0])
    np.testing.assert_allclose(m(x, shift=0.5, scale=2.0).data, [2.5, 4.5])
    assert seen == [2, 3, 1]
    with pytest.raises(TypeError, match="shift"):
        m(x)


def test_forward_hook_can_replace_the_output():
    relu = nn.ReLU()
    with relu.register_forward_hook(lambda m, inp, out: out * 2.0):
        np.testing.assert_allclose(relu(ag.tensor([1.0, -1.0])).data, [2.0, 0.0])
    np.testing.assert_allclose(relu(ag.tensor([1.0, -1.0])).data, [1.0, 0.0])


def test_nodes_record_the_modules_whose_forward_made_them():
    net = Net()
    x = ag.randn(5, 3)
    y = net(x)
    assert y.grad_fn.scope == (net, net.head)
    nodes = ag.toposort([y.grad_fn])
    linear_node = next(n for n in nodes if n.name == "linear" and n.scope[-1] is net.block.fc)
    assert linear_node.scope == (net, net.block, net.block.fc)
    relu_node = next(n for n in nodes if n.name == "relu")
    assert relu_node.scope == (net,)
    assert state.scope == ()


def test_scope_is_restored_when_forward_raises():
    fc = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="does not fit a weight"):
        fc(ag.randn(2, 5))
    assert state.scope == ()


# ---------------------------------------------------------------------------------------------
# state_dict


def test_state_dict_has_dotted_keys_for_parameters_and_buffers():
    sd = Net().state_dict()
    assert list(sd) == ["block.scale", "block.fc.weight", "block.fc.bias", "block.bn.weight",
                        "block.bn.bias", "block.bn.running_mean", "block.bn.running_var",
                        "block.bn.num_batches_tracked", "head.weight"]
    assert not sd["block.fc.weight"].requires_grad


def test_state_dict_round_trip_reproduces_outputs_and_keeps_parameter_objects():
    src, dst = Net(), Net()
    src(ag.randn(8, 3))  # moves the running statistics away from their initial values
    src.eval()
    dst.eval()
    weight = dst.block.fc.weight
    snapshot = {k: v.data.copy() for k, v in src.state_dict().items()}
    result = dst.load_state_dict(snapshot)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.block.fc.weight is weight
    x = ag.randn(4, 3)
    np.testing.assert_array_equal(dst(x).data, src(x).data)
    np.testing.assert_array_equal(dst.block.bn.running_mean.data,
                                  src.block.bn.running_mean.data)
    assert dst.block.bn.num_batches_tracked.item() == 1


def test_load_state_dict_accepts_tensors_and_bumps_versions():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    v = b.weight._version
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(b.weight.data, a.weight.data)
    assert b.weight.data is not a.weight.data
    assert b.weight._version > v


def test_strict_load_lists_missing_unexpected_and_mismatched_keys_together():
    net = Net()
    sd = {k: v.data.copy() for k, v in net.state_dict().items()}
    del sd["head.weight"]
    sd["extra.weight"] = np.zeros(1)
    sd["block.fc.weight"] = np.zeros((3, 4), dtype=np.float32)
    sd["block.fc.bias"] = np.zeros(4, dtype=np.float64)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "head.weight".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert ("size mismatch for block.fc.weight: copying a param with shape (3, 4) from "
            "checkpoint, the shape in current model is (4, 3)") in msg
    assert ("dtype mismatch for block.fc.bias: copying a param with dtype float64 from "
            "checkpoint, the dtype in current model is float32") in msg


def test_failed_load_changes_nothing():
    net = Net()
    before = {k: v.data.copy() for k, v in net.state_dict().items()}
    sd = {k: np.full(v.shape, 7, dtype=v.dtype) for k, v in net.state_dict().items()}
    sd["head.weight"] = np.zeros((1, 1), dtype=np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        net.load_state_dict(sd)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])


def test_non_strict_load_reports_keys_but_still_rejects_wrong_shapes():
    net = Net()
    sd = {"head.weight": np.ones((2, 4), dtype=np.float32), "other": np.zeros(2)}
    result = net.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["other"]
    assert "block.fc.weight" in result.missing_keys and "head.weight" not in result.missing_keys
    np.testing.assert_array_equal(net.head.weight.data, 1.0)
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        net.load_state_dict({"head.weight": np.ones(8, dtype=np.float32)}, strict=False)
    with pytest.raises(TypeError, match="expected a mapping"):
        net.load_state_dict([1, 2])


def test_loaded_values_are_what_an_optimizer_keeps_updating():
    fc = nn.Linear(2, 1)
    held = list(fc.parameters())
    fc.load_state_dict({"weight": np.array([[1.0, 2.0]], dtype=np.float32),
                        "bias": np.array([0.5], dtype=np.float32)})
    with ag.no_grad():
        for p in held:
            p.sub_(1.0)
    np.testing.assert_allclose(fc(ag.tensor([[1.0, 1.0]])).data, [[0.0 + 1.0 - 0.5]])


# ---------------------------------------------------------------------------------------------
# printing and counting


def test_repr_prints_the_tree_with_sizes_and_parameter_counts():
    model = nn.Sequential(nn.Linear(784, 16), nn.ReLU(), nn.Sequential(nn.Linear(16, 10)))
    assert repr(model) == (
        "Sequential(  # 12,730 parameters\n"
        "  (0): Linear(in_features=784, out_features=16, bias=True)  # 12,560 parameters\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(  # 170 parameters\n"
        "    (0): Linear(in_features=16, out_features=10, bias=True)  # 170 parameters\n"
        "  )\n"
        ")")


def test_repr_of_a_custom_module_shows_its_parameter_shapes():
    text = repr(Net())
    assert text.splitlines()[0] == "Net(  # 36 parameters"
    assert "  (block): Block(  # 28 parameters" in text
    assert "    scale=(4,)" in text
    assert "(bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, " in text


def test_num_parameters_counts_scalars():
    assert Net().num_parameters() == 4 + 12 + 4 + 4 + 4 + 8
    assert nn.Module().num_parameters() == 0


def test_deepcopy_gives_an_independent_module():
    net = Net()
    clone = copy.deepcopy(net)
    assert type(clone.block.fc.weight) is nn.Parameter
    assert clone.block.fc.weight is not net.block.fc.weight
    assert clone.block.fc.weight is clone._modules["block"]._modules["fc"]._parameters["weight"]
    x = ag.randn(3, 3)
    np.testing.assert_array_equal(clone(x).data, net(x).data)


# ---------------------------------------------------------------------------------------------
# containers


def test_sequential_indexing_len_iter_append_and_slices():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    assert seq.append(c) is seq and seq[2] is c
    part = seq[1:]
    assert isinstance(part, nn.Sequential) and list(part) == [b, c]
    x = ag.randn(4, 2)
    np.testing.assert_allclose(seq(x).data, c(b(a(x))).data)
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh) and len(seq) == 3
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]


def test_sequential_from_a_mapping_uses_its_names():
    seq = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.ReLU()})
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]
    assert isinstance(seq.act, nn.ReLU)


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and layers[-1].out_features == 1
    assert [n for n, _ in layers.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert len(layers[1:3]) == 2
    layers[0] = nn.Identity()
    assert isinstance(layers[0], nn.Identity) and layers.num_parameters() == 6 * 2 + 3
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(1)


def test_module_dict_registers_by_key():
    d = nn.ModuleDict({"enc": nn.Linear(2, 3)})
    d["dec"] = nn.Linear(3, 2)
    assert list(d) == ["enc", "dec"] and "dec" in d and len(d) == 2
    assert [k for k, _ in d.items()] == ["enc", "dec"] and list(d.keys()) == ["enc", "dec"]
    assert [n for n, _ in d.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                    "dec.bias"]
    d["dec"] = nn.Identity()
    assert d.num_parameters() == 9 and list(d.values())[1] is d["dec"]
    del d["enc"]
    assert list(d) == ["dec"]
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        d(1)
