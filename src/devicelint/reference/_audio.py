"""Audio input handling for the reference loader: validation, down-mix, resampling, WAV files.

Numpy only, on purpose: the loader must not depend on torchaudio, scipy or
librosa, and the CLI reads and checks the audio file before it pays for
importing torch, so that a bad file fails fast with one line.
"""

from __future__ import annotations

import math
import operator
import os
import wave
from typing import Any

import numpy as np

from ._errors import InvalidAudioError

__all__ = ["AudioFileError", "prepare_audio", "read_wav", "resample", "to_mono_float32"]

# Full-scale values of the integer PCM formats we accept; scaling by these maps
# PCM onto [-1, 1), the range Whisper's feature extractor is calibrated for.
_PCM_SCALE: dict[np.dtype[Any], float] = {
    np.dtype(np.int8): 2.0**7,
    np.dtype(np.int16): 2.0**15,
    np.dtype(np.int32): 2.0**31,
}


class AudioFileError(InvalidAudioError):
    """An audio file is missing, unreadable or not a PCM WAV file."""


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _as_array(audio: object) -> np.ndarray:
    """numpy array, torch tensor or (nested) list -> numpy array, without copying needlessly."""
    if isinstance(audio, (np.ndarray, np.generic)):
        return np.asarray(audio)
    if type(audio).__module__.split(".")[0] == "torch" and hasattr(audio, "detach"):
        tensor = audio.detach().cpu()  # type: ignore[attr-defined]
        if tensor.is_floating_point():
            tensor = tensor.float()  # bfloat16/float16 have no (or a lossy) numpy twin
        return tensor.numpy()
    if isinstance(audio, (list, tuple)):
        # Lists are samples as Python numbers: read as floats, never as PCM.
        try:
            return np.asarray(audio, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidAudioError(f"audio list is not a rectangular list of numbers ({exc})") from None
    raise InvalidAudioError(
        f"audio must be a numpy array, a torch tensor or a list of samples, got {type(audio).__name__}"
    )


def to_mono_float32(audio: object) -> np.ndarray:
    """Validate ``audio`` and return it as a 1-D float32 waveform.

    Accepts numpy arrays, torch tensors and lists. Float samples are kept as
    they are; int8/int16/int32 PCM is scaled to [-1, 1] and uint8 PCM (offset
    binary, as in 8-bit WAV) is centred first. Stereo audio, laid out as
    ``(2, n)`` or ``(n, 2)``, is down-mixed by averaging the channels.

    Raises ``InvalidAudioError`` (one line) for empty audio, NaN/inf samples,
    a shape that is neither mono nor stereo, and unsupported dtypes.
    """
    array = _as_array(audio)
    dtype = array.dtype
    if dtype == np.uint8:
        samples = (array.astype(np.float64) - 128.0) / 128.0
    elif dtype in _PCM_SCALE:
        samples = array.astype(np.float64) / _PCM_SCALE[dtype]
    elif np.issubdtype(dtype, np.floating):
        samples = array.astype(np.float64, copy=False)
    elif np.issubdtype(dtype, np.integer):
        raise InvalidAudioError(
            f"integer audio must be 8-, 16- or 32-bit PCM (uint8, int8, int16, int32), got {dtype}; "
            "convert it to int16 PCM or to floats in [-1, 1]"
        )
    else:
        raise InvalidAudioError(f"audio samples must be real numbers, got dtype {dtype}")

    if samples.size == 0:
        raise InvalidAudioError(f"audio is empty (shape {_shape(array.shape)})")
    if samples.ndim == 2:
        rows, cols = samples.shape
        if rows in (1, 2) and rows <= cols:
            samples = samples.mean(axis=0)  # channels first: (2, n)
        elif cols in (1, 2):
            samples = samples.mean(axis=1)  # channels last: (n, 2), as WAV frames are laid out
        else:
            raise InvalidAudioError(
                f"audio must be mono (n,) or stereo (2, n) / (n, 2), got shape {_shape(array.shape)}"
            )
    elif samples.ndim != 1:
        raise InvalidAudioError(
            f"audio must be mono (n,) or stereo (2, n) / (n, 2), got {samples.ndim}-D shape {_shape(array.shape)}"
        )
    bad = np.count_nonzero(~np.isfinite(samples))
    if bad:
        raise InvalidAudioError(f"audio has {bad} non-finite sample(s) (NaN or inf) out of {samples.size}")
    return samples.astype(np.float32)


def _check_rate(sampling_rate: object, name: str = "sampling_rate") -> int:
    try:
        if isinstance(sampling_rate, bool):
            raise TypeError
        rate = operator.index(sampling_rate)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidAudioError(f"{name} must be a positive integer in Hz, got {sampling_rate!r}") from None
    if rate <= 0:
        raise InvalidAudioError(f"{name} must be a positive integer in Hz, got {rate}")
    return rate


def resample(
    samples: np.ndarray,
    orig_rate: int,
    new_rate: int,
    *,
    zero_crossings: int = 16,
    rolloff: float = 0.945,
    block: int = 8192,
) -> np.ndarray:
    """Band-limited resampling of a 1-D signal from ``orig_rate`` to ``new_rate`` Hz.

    Each output sample is the input convolved with a Hann-windowed sinc
    low-pass filter evaluated at the output instant (exact rational time
    ``n * orig / new``, so any pair of integer rates works without a huge
    polyphase table). The cut-off is ``rolloff`` times the lower of the two
    Nyquist frequencies, so content the new rate cannot represent is removed
    instead of aliasing; ``zero_crossings`` sinc lobes on each side trade
    speed for stop-band attenuation. Samples outside the signal count as 0.
    The output has ``ceil(len * new / orig)`` samples.
    """
    orig_rate = _check_rate(orig_rate, "orig_rate")
    new_rate = _check_rate(new_rate, "new_rate")
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise InvalidAudioError(f"resample expects a 1-D signal, got shape {_shape(x.shape)}")
    if orig_rate == new_rate or x.size == 0:
        return x.astype(np.float32)
    g = math.gcd(orig_rate, new_rate)
    up, down = new_rate // g, orig_rate // g  # output n sits at input time n * down / up
    # Cut-off in cycles per *input* sample, and the kernel half-width in input samples.
    cutoff = 0.5 * min(1.0, up / down) * rolloff
    half_width = zero_crossings / (2.0 * cutoff)
    taps = np.arange(-math.ceil(half_width), math.ceil(half_width) + 1)

    def kernel(phase: np.ndarray) -> np.ndarray:
        """Filter taps for output instants ``phase`` (fractional part, in input samples) past an input sample."""
        d = phase[:, None] - taps[None, :]  # distance from each tap's input sample
        window = np.where(np.abs(d) < half_width, np.cos(np.pi * d / (2.0 * half_width)) ** 2, 0.0)
        return 2.0 * cutoff * np.sinc(2.0 * cutoff * d) * window

    # Output instants fall on only `up` distinct fractional phases; tabulate
    # their kernels once unless the ratio is pathological (e.g. 16001 -> 16000).
    table = kernel(np.arange(up) / up) if up <= 4096 else None
    n_out = -(-x.size * up // down)
    out = np.empty(n_out, dtype=np.float64)
    padded = np.concatenate([np.zeros(taps.size), x, np.zeros(taps.size)])
    for start in range(0, n_out, block):
        n = np.arange(start, min(start + block, n_out), dtype=np.int64)
        whole, rest = np.divmod(n * down, up)  # exact rational time: t = whole + rest / up
        weights = table[rest] if table is not None else kernel(rest / up)
        neighbours = padded[whole[:, None] + taps[None, :] + taps.size]
        out[n] = np.einsum("ij,ij->i", neighbours, weights)
    return out.astype(np.float32)


def prepare_audio(audio: object, sampling_rate: object, target_rate: int, *, min_samples: int = 1) -> np.ndarray:
    """Validate, down-mix and resample ``audio`` to ``target_rate``; return 1-D float32.

    ``min_samples`` (at ``target_rate``) guards against clips too short for
    the model; the error says how long the clip is and what is needed.
    """
    rate = _check_rate(sampling_rate)
    samples = resample(to_mono_float32(audio), rate, target_rate)
    if samples.size < min_samples:
        raise InvalidAudioError(
            f"audio is too short: {samples.size} samples ({samples.size / target_rate:.3f} s) at {target_rate} Hz; "
            f"need at least {min_samples} ({min_samples / target_rate:.3f} s)"
        )
    return samples


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a PCM WAV file with the stdlib ``wave`` module.

    Returns ``(samples, rate)`` with float32 samples in [-1, 1], shaped
    ``(n,)`` for mono and ``(n, channels)`` otherwise. 8-bit (unsigned),
    16-, 24- and 32-bit (signed) PCM are supported. Any failure (missing
    file, not RIFF/WAVE, compressed or float WAV) raises ``AudioFileError``
    with a one-line reason.
    """
    name = os.fspath(path)
    try:
        with wave.open(name, "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            data = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise AudioFileError(f"cannot read WAV file {name}: no such file") from None
    except IsADirectoryError:
        raise AudioFileError(f"cannot read WAV file {name}: it is a directory") from None
    except PermissionError:
        raise AudioFileError(f"cannot read WAV file {name}: permission denied") from None
    except (wave.Error, EOFError, OSError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        raise AudioFileError(f"cannot read WAV file {name}: {reason}") from None
    if width not in (1, 2, 3, 4):
        raise AudioFileError(f"cannot read WAV file {name}: unsupported sample width of {width} bytes")
    frame = width * channels
    data = data[: len(data) - len(data) % frame]  # drop a truncated last frame
    raw = np.frombuffer(data, dtype=np.uint8)
    if width == 1:
        pcm = raw  # 8-bit WAV is unsigned
    elif width == 3:
        # Little-endian 24-bit: place the 3 bytes in the top of an int32 (sign comes for free).
        quads = np.zeros((raw.size // 3, 4), dtype=np.uint8)
        quads[:, 1:] = raw.reshape(-1, 3)
        pcm = quads.view("<i4").reshape(-1)
    else:
        pcm = raw.view({2: "<i2", 4: "<i4"}[width]).astype({2: np.int16, 4: np.int32}[width])
    samples = pcm.reshape(-1, channels)
    if samples.dtype == np.uint8:
        floats = (samples.astype(np.float32) - 128.0) / 128.0
    else:
        floats = (samples.astype(np.float64) / _PCM_SCALE[samples.dtype]).astype(np.float32)
    return (floats[:, 0] if channels == 1 else floats), rate
