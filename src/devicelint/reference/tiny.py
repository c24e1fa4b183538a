"""A tiny, random-weight Qwen2-Audio checkpoint, built locally and deterministically.

Why: the reference loader and the regression tests must run the *real*
``transformers`` Qwen2-Audio code path (processor, chat template, audio
encoder, ``generate``) on any machine, with no network and in well under a
second per answer. A real checkpoint is 16 GB; this one is about 1 MB (about
250k parameters) and is rebuilt byte-for-byte identically from a seed.

What is real about it: a byte-level BPE tokenizer trained with ``tokenizers``
(Qwen2's own pre-tokenizer and ByteLevel decoder), the Qwen2-Audio special
tokens and chat template, a ``WhisperFeatureExtractor`` with 128 mel bins,
and a ``Qwen2AudioConfig`` whose encoder length matches the extractor.
What is not: the weights are random, so replies are gibberish.

Two deliberate departures from a real checkpoint, both so tests can rely on
the output:

* ``chunk_length`` is 2 s instead of 30 s, and the encoder's
  ``max_source_positions`` is shrunk to match. ``Qwen2AudioEncoder`` insists
  that the mel input is exactly ``max_source_positions * 2`` frames long
  (conv1 has stride 1, conv2 stride 2), and the extractor always pads to
  ``chunk_length * sampling_rate / hop_length`` frames.
* The ``lm_head`` rows of special tokens and of the padding ids above the
  tokenizer's vocabulary are zero. Random logits of every other token are then
  positive for some token with overwhelming probability, so greedy decoding
  never stops early or emits an id the tokenizer cannot decode: a reply always
  has exactly ``max_new_tokens`` tokens of (random) text.

Usage: ``python -m devicelint.reference.tiny OUT_DIR`` or
``make_tiny_checkpoint(out_dir)``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from ._extra import OneLineParser, require

__all__ = [
    "AUDIO_TOKENS",
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "TINY_CHUNK_SECONDS",
    "main",
    "make_tiny_checkpoint",
]

#: Qwen2-Audio's special tokens, in the order they get ids 0..5 here.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|AUDIO|>",
    "<|audio_bos|>",
    "<|audio_eos|>",
)
#: The three tokens ``Qwen2AudioProcessor`` looks for (placeholder, begin, end).
AUDIO_TOKENS: tuple[str, str, str] = ("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")

#: Qwen2-Audio-7B-Instruct's chat template. A content entry is audio when it
#: has an ``audio`` or ``audio_url`` key (how the Instruct model card and the
#: loader write it) or ``type == "audio"``; each audio becomes one
#: ``<|AUDIO|>`` placeholder that the processor expands to the real count.
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n"
    "{% else %}"
    "{% for content in message['content'] %}"
    "{% if 'audio' in content or 'audio_url' in content or content['type'] == 'audio' %}"
    "{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif 'text' in content %}"
    "{{ content['text'] }}"
    "{% endif %}"
    "{% endfor %}"
    "<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}"
    "<|im_start|>assistant\n"
    "{% endif %}"
)

#: Seconds of audio the tiny extractor keeps (pads/truncates to).
TINY_CHUNK_SECONDS = 2
_SAMPLING_RATE = 16_000
_HOP_LENGTH = 160
_VOCAB_SIZE = 512  # tokenizer target; the model pads up to a multiple of 64

# Qwen2's pre-tokenizer regex (transformers.models.qwen2.tokenization_qwen2).
_PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# Training text for the BPE merges: chat-template scaffolding plus the kind of
# questions and answers the tests send, so common words become single tokens.
_CORPUS: tuple[str, ...] = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
    "<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n",
    "What does this audio contain? Describe the sound in one sentence.<|im_end|>\n",
    "<|im_start|>assistant\nThe audio is a pure sine tone at 440 hertz.<|im_end|>\n",
    "Is this speech, music, noise or silence? It sounds like a steady beep.",
    "What is the pitch of the tone? The frequency is about four hundred and forty hertz.",
    "A man is speaking in a quiet room. A woman is singing with a piano.",
    "There is a dog barking, a car horn, rain on a window and birds in the morning.",
    "Transcribe the speech. Translate it into English. Answer with a single word.",
    "The recording is short, clean and loud; the second half is quieter than the first.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 16000 44100 48000 Hz kHz seconds minutes.",
    "Punctuation: , . ; : ! ? ' \" ( ) [ ] { } - _ / \\ | @ # $ % & * + = < > ~ `",
)

_DEFAULT_SEED = 0


def _train_tokenizer_files() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE with Qwen2's pipeline; return (vocab, merges).

    ``tokenizers``' BPE trainer is deterministic for a fixed corpus, so the
    vocabulary (and hence every token id) is the same on every run.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    tokenizer = Tokenizer(BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = BpeTrainer(
        vocab_size=_VOCAB_SIZE,
        min_frequency=1,
        show_progress=False,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    # Repeat the corpus so frequent words win merges over one-off pairs.
    tokenizer.train_from_iterator(list(_CORPUS) * 4, trainer=trainer)
    model = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(pair) if isinstance(pair, list) else tuple(pair.split(" ")) for pair in model["merges"]]
    return dict(model["vocab"]), merges


def _build_processor(out: Path) -> dict[str, int]:
    """Write tokenizer + feature extractor + chat template into ``out``.

    Returns the special token ids plus ``"size"``, the tokenizer's length.
    """
    from transformers import Qwen2AudioProcessor, Qwen2Tokenizer, WhisperFeatureExtractor

    vocab, merges = _train_tokenizer_files()
    tokenizer = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",  # as in Qwen2-Audio-7B-Instruct
        pad_token="<|endoftext|>",
        extra_special_tokens=[t for t in SPECIAL_TOKENS if t not in ("<|endoftext|>", "<|im_end|>")],
        model_max_length=1024,
    )
    feature_extractor = WhisperFeatureExtractor(
        feature_size=128,
        sampling_rate=_SAMPLING_RATE,
        hop_length=_HOP_LENGTH,
        chunk_length=TINY_CHUNK_SECONDS,
        n_fft=400,
        padding_value=0.0,
        return_attention_mask=True,
    )
    processor = Qwen2AudioProcessor(
        feature_extractor=feature_extractor,
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    return {**ids, "size": len(tokenizer)}


def _build_model(out: Path, *, seed: int, ids: dict[str, int]) -> None:
    """Write a seeded random Qwen2AudioForConditionalGeneration + generation config.

    ``ids`` is what ``_build_processor`` returned.
    """
    import torch
    from transformers import GenerationConfig, Qwen2AudioConfig, Qwen2AudioForConditionalGeneration

    n_tokens = ids["size"]
    special_ids = [ids[token] for token in SPECIAL_TOKENS]
    end_of_turn, end_of_text = ids["<|im_end|>"], ids["<|endoftext|>"]
    vocab_size = -(-n_tokens // 64) * 64
    n_frames = TINY_CHUNK_SECONDS * _SAMPLING_RATE // _HOP_LENGTH
    config = Qwen2AudioConfig(
        audio_config={
            "model_type": "qwen2_audio_encoder",
            "num_mel_bins": 128,
            "encoder_layers": 2,
            "encoder_attention_heads": 4,
            "encoder_ffn_dim": 128,
            "d_model": 64,
            # conv1 (stride 1) then conv2 (stride 2): the encoder wants exactly
            # max_source_positions * 2 mel frames, the extractor's padded length.
            "max_source_positions": n_frames // 2,
        },
        text_config={
            "model_type": "qwen2",
            "vocab_size": vocab_size,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 1024,
            "tie_word_embeddings": False,
            "pad_token_id": end_of_text,
            "eos_token_id": end_of_turn,
            "bos_token_id": None,
        },
        audio_token_index=ids["<|AUDIO|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config).eval()
    with torch.no_grad():
        weight = model.get_output_embeddings().weight
        weight[special_ids] = 0.0
        weight[n_tokens:] = 0.0
    model.generation_config = GenerationConfig(
        bos_token_id=None,
        eos_token_id=[end_of_turn, end_of_text],
        pad_token_id=end_of_text,
        do_sample=False,
        max_new_tokens=16,
    )
    model.save_pretrained(out)


def make_tiny_checkpoint(out_dir: str | os.PathLike[str], *, seed: int = _DEFAULT_SEED) -> Path:
    """Write the tiny Qwen2-Audio checkpoint into ``out_dir`` and return its path.

    The directory is created if needed. Nothing is downloaded. The same seed
    gives byte-identical weights and tokenizer files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    before = {p.name: _identity(p) for p in out.iterdir()}
    _build_model(out, seed=seed, ids=_build_processor(out))
    _apply_umask(p for p in out.iterdir() if p.is_file() and before.get(p.name) != _identity(p))
    return out


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def _apply_umask(paths: Iterable[Path]) -> None:
    """Give the files written here the mode any new file gets (0o666 less the umask).

    ``safetensors`` writes ``model.safetensors`` through a private temporary file, mode
    0600, so the checkpoint's weights could be read only by their owner, unlike the JSON
    files next to them."""
    umask = os.umask(0)
    os.umask(umask)
    for path in paths:
        path.chmod(0o666 & ~umask)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m devicelint.reference.tiny OUT_DIR [--seed N]``."""
    require("python -m devicelint.reference.tiny", ("numpy", "torch", "transformers", "tokenizers", "safetensors"))
    parser = OneLineParser(
        prog="python -m devicelint.reference.tiny",
        description="Write a tiny random-weight Qwen2-Audio checkpoint (offline, deterministic).",
    )
    parser.add_argument("out_dir", type=Path, help="directory to write (created if missing)")
    parser.add_argument("--seed", type=int, default=_DEFAULT_SEED, help="weight seed (default: %(default)s)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        out = make_tiny_checkpoint(args.out_dir, seed=args.seed)
    except OSError as exc:
        print(f"error: cannot write {args.out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{out} ({_dir_size(out) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
