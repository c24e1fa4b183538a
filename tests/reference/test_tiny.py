"""The tiny checkpoint: small, deterministic, and a genuine Qwen2-Audio checkpoint to transformers."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from devicelint.reference.qwen2_audio import Qwen2AudioChat
from devicelint.reference.tiny import AUDIO_TOKENS, SPECIAL_TOKENS, TINY_CHUNK_SECONDS, main

from ._support import run_main, run_python


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def test_checkpoint_is_a_few_mb_at_most(tiny_checkpoint: Path) -> None:
    names = {p.name for p in tiny_checkpoint.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"} <= names
    size = sum(p.stat().st_size for p in tiny_checkpoint.iterdir())
    assert 100_000 < size < 5_000_000


def test_loads_offline_with_the_auto_classes(tiny_checkpoint: Path) -> None:
    from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration, Qwen2AudioProcessor

    processor = AutoProcessor.from_pretrained(tiny_checkpoint, local_files_only=True)
    assert isinstance(processor, Qwen2AudioProcessor)
    model = Qwen2AudioForConditionalGeneration.from_pretrained(tiny_checkpoint, local_files_only=True)
    assert model.config.audio_token_id == processor.tokenizer.convert_tokens_to_ids(AUDIO_TOKENS[0])
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_tokenizer_is_a_real_byte_level_bpe_with_qwen2_audio_specials(tiny_chat: Qwen2AudioChat) -> None:
    tokenizer = tiny_chat.processor.tokenizer
    ids = [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS]
    assert len(set(ids)) == len(SPECIAL_TOKENS)
    assert tokenizer.encode("".join(SPECIAL_TOKENS), add_special_tokens=False) == ids  # never split
    text = "The audio is a 440 Hz tone, naïve café ✓"
    encoded = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(encoded) == text  # byte-level: any UTF-8 round-trips
    common = "What does this audio contain?"
    assert len(tokenizer.encode(common, add_special_tokens=False)) < len(common) // 3  # merges were learned
    assert tokenizer.eos_token == "<|im_end|>"


def test_chat_template_is_qwen2_audio_instruct(tiny_chat: Qwen2AudioChat) -> None:
    text = tiny_chat.prompt_text("Describe it.")
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nAudio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\nDescribe it.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_feature_extractor_length_matches_the_audio_encoder(tiny_chat: Qwen2AudioChat) -> None:
    extractor = tiny_chat.processor.feature_extractor
    encoder = tiny_chat.model.config.audio_config
    assert type(extractor).__name__ == "WhisperFeatureExtractor"
    assert extractor.feature_size == encoder.num_mel_bins == 128
    assert extractor.chunk_length == TINY_CHUNK_SECONDS
    # Qwen2AudioEncoder.forward insists on max_source_positions * 2 mel frames.
    assert extractor.nb_max_frames == encoder.max_source_positions * 2


def _process(*args: str):
    return run_python("-m", "devicelint.reference.tiny", *args)


def _main(*args: str):
    return run_main(main, *args)


@pytest.mark.parametrize("run", [pytest.param(_main, id="main"), pytest.param(_process, id="process", marks=pytest.mark.slow)])
def test_cli_rebuilds_the_same_bytes(tiny_checkpoint: Path, tmp_path: Path, run) -> None:
    result = run(str(tmp_path / "again"))
    assert result.returncode == 0, result.stderr
    assert "MB" in result.stdout
    assert _digests(tmp_path / "again") == _digests(tiny_checkpoint)


def test_a_different_seed_changes_only_the_weights(tiny_checkpoint: Path, tmp_path: Path) -> None:
    from devicelint.reference.tiny import make_tiny_checkpoint

    other = _digests(make_tiny_checkpoint(tmp_path / "seed1", seed=1))
    base = _digests(tiny_checkpoint)
    assert other["model.safetensors"] != base["model.safetensors"]
    assert other["tokenizer.json"] == base["tokenizer.json"]


def test_cli_reports_an_unwritable_directory_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_python("-m", "devicelint.reference.tiny", str(blocker / "sub"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


def test_written_files_get_the_umask_mode(tiny_checkpoint: Path, tmp_path: Path) -> None:
    """Every file of the checkpoint, model.safetensors included (safetensors writes it 0600
    through a temporary file), has the mode a new file gets here: 0o666 less the umask; also
    when the files are written again over an existing checkpoint."""
    umask = os.umask(0)
    os.umask(umask)
    expected = 0o666 & ~umask
    assert expected != 0o600, "the umask hides the difference; run the tests with a usual umask such as 022"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tiny_checkpoint.iterdir()}
    assert modes == dict.fromkeys(modes, expected)
    again = tmp_path / "again"
    assert run_main(main, str(again)).returncode == 0
    (again / "model.safetensors").chmod(0o600)
    assert run_main(main, str(again)).returncode == 0
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in again.iterdir()} == dict.fromkeys(modes, expected)


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for args in (["--seed", "x", str(tmp_path)], [], [str(tmp_path), "--no-such-flag"]):
        result = _process(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("python -m devicelint.reference.tiny: error: "), result.stderr
        assert "Traceback" not in result.stderr
