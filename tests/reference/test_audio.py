"""Audio input handling: validation, down-mix, PCM scaling, band-limited resampling, WAV reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devicelint.reference._audio import AudioFileError, prepare_audio, read_wav, resample, to_mono_float32
from devicelint.reference.qwen2_audio import InvalidAudioError

from ._support import lazy, materialize, tone, torch, write_wav


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    windowed = samples * np.hanning(samples.size)
    spectrum = np.abs(np.fft.rfft(windowed))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[spectrum.argmax()])


def _amplitude(samples: np.ndarray) -> float:
    return float(np.sqrt(2 * np.mean(samples.astype(np.float64) ** 2)))


# ---------------------------------------------------------------- to_mono_float32


def test_float_mono_passes_through_as_float32() -> None:
    x = tone()
    out = to_mono_float32(x.astype(np.float64))
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize(
    ("pcm", "expected"),
    [
        (np.array([-32768, 0, 16384, 32767], dtype=np.int16), [-1.0, 0.0, 0.5, 32767 / 32768]),
        (np.array([-(2**31), 2**30], dtype=np.int32), [-1.0, 0.5]),
        (np.array([-128, 64], dtype=np.int8), [-1.0, 0.5]),
        (np.array([0, 128, 192], dtype=np.uint8), [-1.0, 0.0, 0.5]),
    ],
)
def test_integer_pcm_is_scaled_to_unit_range(pcm: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(to_mono_float32(pcm), expected, rtol=0, atol=1e-7)


def test_torch_tensors_and_lists_are_accepted() -> None:
    x = tone(seconds=0.1)
    np.testing.assert_array_equal(to_mono_float32(torch.from_numpy(x)), x)
    np.testing.assert_allclose(to_mono_float32(torch.from_numpy(x).to(torch.bfloat16)), x, atol=4e-3)
    np.testing.assert_array_equal(to_mono_float32(torch.tensor([-32768, 16384], dtype=torch.int16)), [-1.0, 0.5])
    np.testing.assert_array_equal(to_mono_float32(x.tolist()), x)


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_stereo_is_down_mixed_to_the_channel_mean(layout: str) -> None:
    left, right = tone(440, 0.1), tone(1000, 0.1, amplitude=0.25)
    stereo = np.stack([left, right]) if layout == "channels_first" else np.stack([left, right], axis=1)
    out = to_mono_float32(stereo)
    assert out.shape == left.shape
    np.testing.assert_allclose(out, (left.astype(np.float64) + right) / 2, atol=1e-7)


@pytest.mark.parametrize("shape", [(1, 800), (800, 1)])
def test_single_channel_2d_is_mono(shape: tuple[int, int]) -> None:
    x = tone(seconds=0.05)
    np.testing.assert_array_equal(to_mono_float32(x.reshape(shape)), x)


def test_stereo_int16_is_scaled_then_mixed() -> None:
    frames = np.array([[32767, -32768], [16384, 16384], [0, -16384]], dtype=np.int16)  # (n, 2)
    np.testing.assert_allclose(to_mono_float32(frames), [-0.5 / 32768, 0.5, -0.25], atol=1e-7)


@pytest.mark.parametrize(
    ("audio", "needle"),
    [
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.zeros((2, 0), dtype=np.float32), "empty"),
        ([], "empty"),
        (np.array([0.0, np.nan, 0.1], dtype=np.float32), "non-finite"),
        (np.array([0.0, np.inf], dtype=np.float32), "non-finite"),
        (lazy(lambda: torch.tensor([0.0, float("-inf")])), "non-finite"),
        (np.zeros((2, 2, 100), dtype=np.float32), "3-D"),
        (np.zeros((3, 100), dtype=np.float32), "stereo"),
        (np.zeros((100, 6), dtype=np.float32), "shape (100, 6)"),
        (np.float32(0.5), "0-D"),
        (np.zeros(10, dtype=np.int64), "PCM"),
        (np.zeros(10, dtype=bool), "real numbers"),
        (np.zeros(10, dtype=np.complex64), "real numbers"),
        ("tone.wav", "numpy array"),
        ([[0.1, 0.2], [0.3]], "rectangular"),
    ],
)
def test_bad_audio_raises_one_line_value_error(audio: object, needle: str) -> None:
    with pytest.raises(InvalidAudioError) as caught:
        to_mono_float32(materialize(audio))
    assert isinstance(caught.value, ValueError)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------- resample


@pytest.mark.parametrize(
    ("orig", "new", "freq"), [(44_100, 16_000, 440), (48_000, 16_000, 3_000), (8_000, 16_000, 1_000)]
)
def test_resampling_keeps_a_tone_frequency_and_level(orig: int, new: int, freq: float) -> None:
    x = tone(freq, seconds=1.0, rate=orig)
    y = resample(x, orig, new)
    assert y.dtype == np.float32
    assert y.size == -(-x.size * new // orig)
    edge = new // 20  # stay away from the zero-padded ends
    core = y[edge:-edge]
    assert abs(_peak_hz(core, new) - freq) <= 1.5
    assert _amplitude(core) == pytest.approx(0.5, rel=0.01)


def test_upsampling_matches_the_analytic_signal() -> None:
    y = resample(tone(1_000, 0.5, 8_000), 8_000, 16_000)
    reference = tone(1_000, 0.5, 16_000)
    np.testing.assert_allclose(y[400:-400], reference[400:-400], atol=2e-3)


def test_resampling_is_band_limited() -> None:
    # 10 kHz is above the 8 kHz Nyquist of 16 kHz: a band-limited resampler
    # removes it; naive interpolation would fold it to a loud 6 kHz alias.
    y = resample(tone(10_000, 1.0, 44_100), 44_100, 16_000)
    assert _amplitude(y[800:-800]) < 0.005
    naive = tone(10_000, 1.0, 44_100)[np.round(np.arange(16_000) * 44_100 / 16_000).astype(int)]
    assert _amplitude(naive) > 0.4  # the alias a non-band-limited resampler keeps


def test_same_rate_is_identity_and_odd_ratios_work() -> None:
    x = tone(seconds=0.25)
    np.testing.assert_array_equal(resample(x, 16_000, 16_000), x)
    y = resample(tone(440, 1.0, 16_001), 16_001, 16_000)
    assert y.size == 16_000
    assert abs(_peak_hz(y[800:-800], 16_000) - 440) <= 1.5


def test_prepare_audio_resamples_and_rejects_short_clips_and_bad_rates() -> None:
    out = prepare_audio(np.stack([tone(440, 0.5, 44_100)] * 2), 44_100, 16_000, min_samples=961)
    assert out.shape == (8_000,) and out.dtype == np.float32
    with pytest.raises(InvalidAudioError, match="too short"):
        prepare_audio(tone(seconds=0.05), 16_000, 16_000, min_samples=961)
    for rate in (0, -16_000, 16_000.5, "16k", True, None):
        with pytest.raises(InvalidAudioError, match="sampling_rate"):
            prepare_audio(tone(), rate, 16_000)


# ---------------------------------------------------------------- read_wav


@pytest.mark.parametrize("width", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2])
def test_read_wav_round_trips_pcm(tmp_path: Path, width: int, channels: int) -> None:
    x = tone(440, 0.1, 22_050)
    frames = x if channels == 1 else np.stack([x, -x], axis=1)
    path = write_wav(tmp_path / f"t{width}{channels}.wav", frames, 22_050, width=width)
    samples, rate = read_wav(path)
    assert rate == 22_050
    assert samples.dtype == np.float32
    assert samples.shape == frames.shape
    np.testing.assert_allclose(samples, frames, atol=2.0 / 2 ** (8 * width - 1) + 1e-6)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        (b"", "cannot read WAV file"),
        (b"not a wav file at all", "RIFF"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot read WAV file"),  # truncated header
    ],
)
def test_read_wav_errors_are_one_line(tmp_path: Path, content: bytes | None, needle: str) -> None:
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioFileError) as caught:
        read_wav(path)
    assert isinstance(caught.value, InvalidAudioError)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_read_wav_on_a_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="directory"):
        read_wav(tmp_path)
