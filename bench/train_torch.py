"""The PyTorch peer of `npm run bench:train`: src/train/model.ts's network rebuilt layer for layer in
PyTorch, trained with Adam on the same batch and input size, timed per step on this machine's CPU or GPU.

    python3 bench/train_torch.py '<model config JSON>' <keypoints> <batch> <steps> <warmup> <threads> [auto|cpu|cuda]

The device (default cpu, as before the argument existed): auto is cuda where torch.cuda.is_available(),
else cpu; cuda where PyTorch sees no CUDA device is an error (exit 2), never the CPU in its place.
Prints one JSON line: {"torch": version, "device": "cpu" or "cuda (<GPU name>; cuDNN TF32 on|off)", "threads": T,
"parameters": P, "stepMs": mean, "imagesPerSec": B/step}.
The loss is the mean squared error of the heatmap logits against fixed targets (the network's work
per step; PoseLab's side of the comparison times the same network-only step). On cuda each step ends
with torch.cuda.synchronize(): kernels are queued asynchronously, and a step is timed to its end, as
PoseLab's side ends each step by reading the gradient norm back."""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    """Conv with TensorFlow's 'same' padding (for stride 2 on even sizes: one extra row/column after)."""

    def __init__(self, cin, cout, k, stride, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=0)
        self.k, self.stride, self.relu = k, stride, relu

    def forward(self, x):
        h = x.shape[-1]
        out = -(-h // self.stride)
        total = max((out - 1) * self.stride + self.k - h, 0)
        x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))
        y = self.conv(x)
        return F.relu(y) if self.relu else y


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = Conv(c, c, 3, 1)
        self.b = Conv(c, c, 3, 1, relu=False)

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


class Net(nn.Module):
    def __init__(self, cfg, k):
        super().__init__()
        ch = lambda level: min(cfg["maxChannels"], cfg["width"] * 2 ** level)
        self.depth, self.blocks = cfg["depth"], cfg["blocks"]
        self.stem = Conv(3, ch(0), 3, 2)
        self.down = nn.ModuleList([Conv(ch(0), ch(1), 3, 2)] + [Conv(ch(i), ch(i + 1), 3, 2) for i in range(1, self.depth + 1)])
        self.down_res = nn.ModuleList([nn.Sequential(*[Res(ch(i + 1)) for _ in range(self.blocks)]) for i in range(self.depth + 1)])
        self.up_proj = nn.ModuleList([Conv(ch(i + 1), ch(i), 1, 1, relu=False) for i in range(1, self.depth + 1)])
        self.up_res = nn.ModuleList([nn.Sequential(*[Res(ch(i)) for _ in range(self.blocks)]) for i in range(1, self.depth + 1)])
        self.head = Conv(ch(1), ch(1), 3, 1)
        self.heat = Conv(ch(1), k, 1, 1, relu=False)
        self.conf = Conv(ch(1), k, 1, 1, relu=False) if cfg["confidence"] else None

    def forward(self, x):
        x = self.down_res[0](self.down[0](self.stem(x)))
        skips = []
        for i in range(1, self.depth + 1):
            skips.append(x)
            x = self.down_res[i](self.down[i](x))
        for i in range(self.depth, 0, -1):
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.relu(self.up_proj[i - 1](x) + skips[i - 1])
            x = self.up_res[i - 1](x)
        feat = self.head(x)
        heat = self.heat(feat)
        conf = torch.sigmoid(self.conf(feat).mean(dim=(2, 3))) if self.conf is not None else None
        return heat, conf


def pick_device(asked):
    """torch.device for auto|cpu|cuda; exits 2 naming the argument when it cannot be had."""
    if asked not in ("auto", "cpu", "cuda"):
        print(f"train_torch.py: device {asked!r}: expected auto, cpu or cuda", file=sys.stderr)
        sys.exit(2)
    if asked == "cuda" and not torch.cuda.is_available():
        print(f"train_torch.py: device cuda: PyTorch {torch.__version__} sees no CUDA device "
              f"(torch.cuda.is_available() is False; built for CUDA {torch.version.cuda})", file=sys.stderr)
        sys.exit(2)
    if asked == "auto":
        asked = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(asked)


def main():
    cfg = json.loads(sys.argv[1])
    k, batch, steps, warmup, threads = (int(a) for a in sys.argv[2:7])
    device = pick_device(sys.argv[7] if len(sys.argv) > 7 else "cpu")
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Net(cfg, k).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    s = cfg["inputPx"]
    x = torch.randn(batch, 3, s, s).to(device)
    target = torch.rand(batch, k, s // 4, s // 4).to(device)
    times = []
    sync()
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        heat, conf = net(x)
        loss = F.mse_loss(heat, target) + (conf.mean() if conf is not None else 0)
        loss.backward()
        opt.step()
        sync()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    step_ms = 1000 * sum(times) / len(times)
    print(json.dumps({
        "torch": torch.__version__,
        # cuDNN may run float32 convolutions in TF32 on Ampere and later (PyTorch's default): said with the device,
        # since PoseLab's WebGPU side computes in float32 throughout.
        "device": f"cuda ({torch.cuda.get_device_name(device)}; cuDNN TF32 {'on' if torch.backends.cudnn.allow_tf32 else 'off'})" if cuda else "cpu",
        "threads": threads, "parameters": sum(p.numel() for p in net.parameters()),
        "stepMs": step_ms, "imagesPerSec": 1000 * batch / step_ms,
    }))


if __name__ == "__main__":
    main()
