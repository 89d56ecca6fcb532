import random

import numpy as np
import pytest
import torch

from ganlab_kit import runtime


def test_fast_mode_reads_env(monkeypatch):
    monkeypatch.delenv("GANLAB_FAST", raising=False)
    assert runtime.fast_mode() is False
    assert runtime.pick(100, 3) == 100
    for on in ("1", "true", "YES", "on"):
        monkeypatch.setenv("GANLAB_FAST", on)
        assert runtime.fast_mode() is True
    assert runtime.pick(100, 3) == 3
    monkeypatch.setenv("GANLAB_FAST", "0")
    assert runtime.fast_mode() is False
    monkeypatch.setenv("GANLAB_FAST", "maybe")
    with pytest.raises(ValueError, match="GANLAB_FAST='maybe'"):
        runtime.fast_mode()


def test_pick_device_default_order(monkeypatch):
    monkeypatch.delenv("GANLAB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(runtime, "mps_available", lambda: False)
    assert runtime.pick_device() == torch.device("cpu")
    monkeypatch.setattr(runtime, "mps_available", lambda: True)
    assert runtime.pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.pick_device() == torch.device("cuda")


def test_pick_device_override(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    assert runtime.pick_device() == torch.device("cpu")
    monkeypatch.setenv("GANLAB_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        runtime.pick_device()
    assert runtime.pick_device("cpu") == torch.device("cpu")  # argument beats env


def test_seed_everything_repeats_all_generators():
    def draw(gen):
        return (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=gen).item())

    a = draw(runtime.seed_everything(7))
    b = draw(runtime.seed_everything(7))
    c = draw(runtime.seed_everything(8))
    assert a == b
    assert all(x != y for x, y in zip(a, c))
    with pytest.raises(TypeError):
        runtime.seed_everything(1.5)


class _Noise(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return torch.tensor([np.random.rand(), random.random(), torch.rand(1).item()])


def _epoch(seed):
    gen = runtime.seed_everything(seed)
    loader = torch.utils.data.DataLoader(
        _Noise(), batch_size=4, shuffle=True, num_workers=2, worker_init_fn=runtime.seed_worker, generator=gen
    )
    return torch.cat(list(loader))


def test_dataloader_workers_are_seeded():
    first, second, other = _epoch(3), _epoch(3), _epoch(4)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)
    # workers draw different NumPy streams (the classic duplicated-augmentation bug)
    assert len(set(first[:, 0].tolist())) == 8


def test_frontend_attached_env_override(monkeypatch):
    monkeypatch.setenv("GANLAB_LIVE", "1")
    assert runtime.frontend_attached() is True
    monkeypatch.setenv("GANLAB_LIVE", "0")
    assert runtime.frontend_attached() is False
    monkeypatch.delenv("GANLAB_LIVE")
    assert runtime.frontend_attached() is False  # plain pytest: no kernel


def test_runtime_info_str(monkeypatch):
    monkeypatch.setenv("GANLAB_FAST", "1")
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    info = runtime.runtime_info()
    assert "device=cpu" in str(info) and "fast" in str(info)


def test_atomic_write_replaces_whole_file_and_leaves_no_temporary(tmp_path):
    from ganlab_kit.runtime import atomic_path, atomic_write

    target = tmp_path / "sub" / "file.bin"
    atomic_write(target, b"first")
    atomic_write(target, b"second version")
    assert target.read_bytes() == b"second version"
    # a writer that fails half-way leaves the old file untouched and no temporary behind
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"second version"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_atomic_write_gives_the_mode_a_plain_write_would(tmp_path):
    import os

    from ganlab_kit.runtime import atomic_write

    mask = os.umask(0o022)
    try:
        fresh = atomic_write(tmp_path / "fresh.bin", b"x")
        assert fresh.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
        kept = tmp_path / "kept.bin"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        atomic_write(kept, b"new")
        assert kept.stat().st_mode & 0o777 == 0o640  # replacing keeps the file's mode
    finally:
        os.umask(mask)


def test_limit_torch_threads_is_shared_and_restored_by_the_last_claim():
    original = torch.get_num_threads()
    target = 1 if original != 1 else 2
    first = runtime.limit_torch_threads(target)
    assert torch.get_num_threads() == target
    with runtime.limit_torch_threads(target) as second:
        assert torch.get_num_threads() == target
    assert second.released
    assert torch.get_num_threads() == target  # the first claim is still open
    first.release()
    first.release()  # idempotent
    assert torch.get_num_threads() == original
    untouched = runtime.limit_torch_threads(None)
    assert torch.get_num_threads() == original
    untouched.release()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="torch threads"):
            runtime.limit_torch_threads(bad)


# Each environment's signal, simulated: (environment variables, imported modules) -> live?
HEADLESS_ENV = {"PATH": "/usr/bin", "HOME": "/home/student"}
ENVIRONMENTS = {
    "JupyterLab 4 / Notebook 7 (a server session)": ({"JPY_SESSION_NAME": "/labs/02_gan_lab.ipynb"}, (), True),
    "JupyterHub single-user server": ({"JPY_SESSION_NAME": "02.ipynb", "JUPYTERHUB_API_TOKEN": "t"}, (), True),
    "JupyterHub with an older server": ({"JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "ann"}, (), True),
    "VS Code": ({"VSCODE_PID": "4242"}, (), True),
    "Voila": ({"SERVER_SOFTWARE": "voila/0.5.8", "VOILA_BASE_URL": "/"}, (), True),
    "Voila, pre-heated kernel": ({"VOILA_PREHEAT": "True"}, (), True),
    "Google Colab": ({"COLAB_RELEASE_TAG": "release-colab_20261130"}, ("google.colab",), True),
    "Colab, module only": ({}, ("google.colab", "google"), True),
    "nbclient / nbval / papermill / nbconvert --execute": ({}, ("nbclient",), False),
    "a CGI server that is not Voila": ({"SERVER_SOFTWARE": "Apache/2.4"}, (), False),
}


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_live_decision_for_each_environment(name):
    env, modules, expected = ENVIRONMENTS[name]
    live, why = runtime.live_decision({**HEADLESS_ENV, **env}, modules, kernel=True)
    assert live is expected, (name, why)
    assert why  # every decision names its signal


def test_live_decision_override_and_no_kernel():
    assert runtime.live_decision({"GANLAB_LIVE": "0", "JPY_SESSION_NAME": "x"}, (), kernel=True) == (
        False,
        "GANLAB_LIVE=0",
    )
    assert runtime.live_decision({"GANLAB_LIVE": "1"}, (), kernel=False)[0] is True
    assert runtime.live_decision({"JPY_SESSION_NAME": "x", "VSCODE_PID": "1"}, (), kernel=False)[0] is False
    with pytest.raises(ValueError, match="GANLAB_LIVE"):
        runtime.live_decision({"GANLAB_LIVE": "maybe"}, (), kernel=True)
