"""Reference Qwen2-Audio chat loader: the code devicelint's motivating bug should have been.

The original loader did ``device = "auto" if device == "cuda" else device``,
kept the result on ``self`` and later called ``inputs.to(self._device)``, so
every GPU run died in PyTorch with ``Expected one of cpu, cuda, ... device
type at start of device string: auto``. The intent was twofold: a single
device for the model and its inputs, or, given ``"auto"`` on a multi-GPU
machine, ``device_map="auto"`` sharding. This module does both correctly:

* ``resolve_device`` turns a request into an available ``torch.device`` and
  never lets a placement strategy pass for a device;
* ``Qwen2AudioChat.from_pretrained`` picks ``device_map`` from the resolved
  device and records ``input_device``, the device the *inputs* must go to:
  the one holding the input embeddings (with sharding, that is where the
  first layer lives, not "auto").

torch and transformers are imported lazily so that ``import
devicelint.reference.qwen2_audio`` is cheap and the CLI can reject a bad file,
directory or device spelling in a fraction of a second, on one line.

CLI::

    python -m devicelint.reference.qwen2_audio --model DIR --audio FILE.wav \\
        [--prompt TEXT] [--device auto] [--dtype auto] [--max-new-tokens N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __name__ == "__main__":  # before numpy is imported: without the extra, one line and exit 2
    from ._extra import require

    require("python -m devicelint.reference.qwen2_audio", ("numpy", "torch", "transformers"))

from ._audio import AudioFileError, prepare_audio, read_wav, to_mono_float32
from ._devices import DeviceRequest, is_auto, parse_device, resolve_device
from ._extra import OneLineParser
from ._errors import (
    CheckpointNotFoundError,
    DeviceError,
    DeviceUnavailableError,
    InvalidAudioError,
    InvalidCheckpointError,
    InvalidDeviceError,
    one_line,
)

if TYPE_CHECKING:
    import numpy as np
    import torch
    from transformers import ProcessorMixin, Qwen2AudioForConditionalGeneration

__all__ = [
    "DEFAULT_PROMPT",
    "AudioFileError",
    "CheckpointNotFoundError",
    "DeviceError",
    "DeviceRequest",
    "DeviceUnavailableError",
    "InvalidAudioError",
    "InvalidCheckpointError",
    "InvalidDeviceError",
    "Qwen2AudioChat",
    "check_checkpoint_dir",
    "main",
    "parse_device",
    "read_wav",
    "resolve_device",
]

DEFAULT_PROMPT = "What does this audio contain? Answer in one sentence."

# Qwen2AudioProcessor turns L mel frames into ((L - 1) // 2 + 1 - 2) // 2 + 1
# audio tokens. With a single token the model cannot tell the expanded prompt
# from a legacy unexpanded one and crashes, so at least 2 tokens, i.e. 7
# frames, are needed; the extractor makes ceil(samples / hop_length) frames.
_MIN_AUDIO_FRAMES = 7
_DTYPES = ("auto", "float32", "float16", "bfloat16")


def check_checkpoint_dir(model_dir: str | os.PathLike[str]) -> Path:
    """Check that ``model_dir`` is a local Qwen2-Audio checkpoint, without importing torch.

    Raises ``CheckpointNotFoundError`` when it does not exist (nothing is
    ever downloaded in its place) and ``InvalidCheckpointError`` when it is
    not a directory holding a ``qwen2_audio`` ``config.json``.
    """
    path = Path(model_dir)
    if not path.exists():
        raise CheckpointNotFoundError(f"model directory not found: {path}")
    if not path.is_dir():
        raise InvalidCheckpointError(f"model path is not a directory: {path}")
    config = path / "config.json"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except FileNotFoundError:
        raise InvalidCheckpointError(f"{path} has no config.json; expected a local Qwen2-Audio checkpoint") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise InvalidCheckpointError(f"cannot read {config}: {one_line(str(exc))}") from None
    if model_type != "qwen2_audio":
        raise InvalidCheckpointError(f'{path} holds a {model_type!r} checkpoint, not Qwen2-Audio ("qwen2_audio")')
    return path


def _torch_dtype(dtype: object, device: torch.device) -> torch.dtype | str:
    """The dtype to load with: float32 on CPU unless asked (half precision is slow or
    unsupported there), the checkpoint's own dtype ("auto") on accelerators."""
    import torch

    if dtype is None:
        return torch.float32 if device.type == "cpu" else "auto"
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in _DTYPES:
        return "auto" if dtype == "auto" else getattr(torch, str(dtype))
    raise ValueError(f"invalid dtype {dtype!r}; accepted: None, a torch.dtype or one of {', '.join(_DTYPES)}")


def _check_consistent(path: Path, processor: ProcessorMixin, model: Qwen2AudioForConditionalGeneration) -> None:
    """Catch checkpoints that load but cannot work: transformers quietly builds an
    empty Qwen2 tokenizer when tokenizer.json is missing, and a mismatched
    audio token id would make the model ignore the audio."""
    tokenizer = processor.tokenizer
    if not tokenizer.encode("audio", add_special_tokens=False):
        raise InvalidCheckpointError(f"{path}: the tokenizer cannot encode text (is tokenizer.json missing?)")
    expected = model.config.audio_token_id
    if processor.audio_token_id != expected:
        raise InvalidCheckpointError(
            f"{path}: tokenizer id of {processor.audio_token} is {processor.audio_token_id}, "
            f"but config.json says audio_token_index={expected}"
        )


class Qwen2AudioChat:
    """A loaded Qwen2-Audio model that answers questions about audio clips.

    Build it with ``Qwen2AudioChat.from_pretrained(model_dir, device="auto")``.
    ``input_device`` is where every input tensor is sent; it is always a real
    ``torch.device`` (never a placement strategy), also when the model is
    sharded over several GPUs.
    """

    def __init__(
        self, model: Qwen2AudioForConditionalGeneration, processor: ProcessorMixin, *, sharded: bool = False
    ) -> None:
        self.model = model
        self.processor = processor
        #: True when loaded with ``device_map="auto"`` over several GPUs.
        self.sharded = sharded
        # With device_map sharding the first module to see input_ids is the
        # embedding table, wherever accelerate put it.
        self._input_device = model.get_input_embeddings().weight.device
        # Greedy and reproducible. Passed as generate() kwargs rather than a
        # GenerationConfig: then the sampling knobs a real checkpoint ships
        # (temperature, top_p, ...) count as inherited and transformers does
        # not warn that greedy decoding ignores them.
        self._generate_kwargs: dict[str, Any] = {"do_sample": False, "num_beams": 1}
        if model.generation_config.pad_token_id is None:
            pad = processor.tokenizer.pad_token_id
            self._generate_kwargs["pad_token_id"] = pad if pad is not None else processor.tokenizer.eos_token_id

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | os.PathLike[str],
        device: object = "auto",
        dtype: object = None,
    ) -> Qwen2AudioChat:
        """Load processor and model from a local directory (never downloads).

        ``device`` is anything ``resolve_device`` accepts. A concrete device, or
        ``"auto"`` with at most one GPU, places the whole model on that device.
        ``"auto"`` with several CUDA GPUs shards it with ``device_map="auto"``
        and inputs go to the device of the input embeddings. ``dtype`` is None
        (float32 on CPU, the checkpoint's dtype elsewhere), a ``torch.dtype``
        or one of ``"auto"``, ``"float32"``, ``"float16"``, ``"bfloat16"``.
        """
        path = check_checkpoint_dir(model_dir)
        target = resolve_device(device)
        import torch
        from safetensors import SafetensorError
        from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

        shard = is_auto(device) and target.type == "cuda" and torch.cuda.device_count() > 1
        device_map: str | dict[str, str] = "auto" if shard else {"": str(target)}
        torch_dtype = _torch_dtype(dtype, target)
        try:
            processor = AutoProcessor.from_pretrained(path, local_files_only=True)
            model = Qwen2AudioForConditionalGeneration.from_pretrained(
                path, dtype=torch_dtype, device_map=device_map, local_files_only=True
            )
        except (OSError, ValueError, KeyError, SafetensorError) as exc:
            lines = str(exc).strip().splitlines()
            reason = one_line(lines[0]) if lines else type(exc).__name__
            raise InvalidCheckpointError(f"cannot load Qwen2-Audio checkpoint from {path}: {reason}") from exc
        _check_consistent(path, processor, model)
        return cls(model.eval(), processor, sharded=shard)

    @property
    def input_device(self) -> torch.device:
        """The device every input tensor is moved to (the input embeddings' device)."""
        return self._input_device

    @property
    def sampling_rate(self) -> int:
        """The rate the feature extractor expects; other rates are resampled to it."""
        return int(self.processor.feature_extractor.sampling_rate)

    @property
    def device_map(self) -> dict[str, Any]:
        """Where accelerate placed each module (``{"": device}`` when unsharded)."""
        return dict(getattr(self.model, "hf_device_map", {"": str(self._input_device)}))

    def _min_samples(self) -> int:
        hop = int(self.processor.feature_extractor.hop_length)
        return (_MIN_AUDIO_FRAMES - 1) * hop + 1

    def prompt_text(self, prompt: str) -> str:
        """The chat-template rendering of one user turn: an audio entry, then the question."""
        conversation = [
            {
                "role": "user",
                "content": [
                    # Only marks the spot: the template emits one <|AUDIO|> per
                    # entry with an "audio"/"audio_url" key; nothing is loaded.
                    {"type": "audio", "audio": "<waveform>"},
                    {"type": "text", "text": prompt},
                ],
            }
        ]
        return self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)

    def chat(
        self,
        audio: np.ndarray | torch.Tensor | list[float] | list[list[float]],
        prompt: str,
        sampling_rate: int,
        max_new_tokens: int = 64,
    ) -> str:
        """Answer ``prompt`` about ``audio`` and return only the newly generated text.

        ``audio`` is mono ``(n,)`` or stereo ``(2, n)``/``(n, 2)`` (down-mixed),
        as floats in [-1, 1] or integer PCM (scaled), at ``sampling_rate`` Hz
        (resampled to the extractor's rate when different). Clips longer than
        the extractor's ``chunk_length`` are truncated by the model's own
        feature extractor (30 s for real checkpoints). Decoding is greedy.
        Raises ``InvalidAudioError`` for empty, non-finite, too short or
        badly shaped audio.
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        import torch

        rate = self.sampling_rate
        waveform = prepare_audio(audio, sampling_rate, rate, min_samples=self._min_samples())
        inputs = self.processor(text=self.prompt_text(prompt), audio=waveform, sampling_rate=rate, return_tensors="pt")
        # Every tensor, not just input_ids: the audio features and both masks
        # must sit with the embeddings too (the model moves them on to the
        # audio tower itself).
        model_inputs = {
            key: value.to(self.input_device) if isinstance(value, torch.Tensor) else value
            for key, value in inputs.items()
        }
        with torch.inference_mode():
            output = self.model.generate(**model_inputs, **self._generate_kwargs, max_new_tokens=max_new_tokens)
        prompt_length = model_inputs["input_ids"].shape[1]
        return self.processor.tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model.name_or_path!r}, input_device={str(self.input_device)!r})"


# --------------------------------------------------------------------------- CLI


def _quiet_transformers() -> None:
    """Keep transformers' info/warning logs and progress bars off stderr, so an
    error is the one line the CLI prints. Set before transformers is imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m devicelint.reference.qwen2_audio",
        description="Ask a local Qwen2-Audio checkpoint a question about a WAV file.",
    )
    parser.add_argument("--model", required=True, type=Path, help="local checkpoint directory (never downloaded)")
    parser.add_argument("--audio", required=True, type=Path, help="PCM WAV file (8/16/24/32-bit, mono or stereo)")
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="question about the audio (default: %(default)r)")
    parser.add_argument(
        "--device", default="auto", help='"auto" (default), "cpu", "cuda", "cuda:N", "mps", "xpu" or "xpu:N"'
    )
    parser.add_argument("--dtype", default=None, choices=_DTYPES, help="default: float32 on CPU, checkpoint dtype else")
    parser.add_argument("--max-new-tokens", type=_positive_int, default=64, help="default: %(default)s")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of the bare reply")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 bad input: device, model dir or audio)."""
    args = _parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a random tiny model can emit odd bytes
    try:
        # Cheap checks first, before torch is imported.
        samples, rate = read_wav(args.audio)
        to_mono_float32(samples)  # empty / non-finite / too many channels
        check_checkpoint_dir(args.model)
        parse_device(args.device)
        _quiet_transformers()
        chat = Qwen2AudioChat.from_pretrained(args.model, device=args.device, dtype=args.dtype)
        reply = chat.chat(samples, args.prompt, rate, max_new_tokens=args.max_new_tokens)
    except (DeviceError, InvalidAudioError, InvalidCheckpointError, CheckpointNotFoundError) as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    if args.json:
        payload = {
            "reply": reply,
            "device": str(chat.input_device),
            "device_map": {k: str(v) for k, v in chat.device_map.items()},
            "sharded": chat.sharded,
            "model": str(args.model),
            "audio": str(args.audio),
            "sampling_rate": rate,
            "prompt": args.prompt,
        }
        print(json.dumps(payload))
    else:
        print(reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
