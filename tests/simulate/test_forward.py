from __future__ import annotations

import math

import numpy as np
import pytest

from livesr.config import CameraConfig, OpticsConfig, PatternConfig
from livesr.optics import ideal_otf_radial, pattern_phases, pattern_wavevectors
from livesr.simulate import SIMForwardModel, Specimen, signal_level, simulate_sample

OPTICS = OpticsConfig()
CAMERA = CameraConfig()


def _carrier_peak(harmonic: np.ndarray, pixel_um: float, k0: float, pad: int = 4) -> np.ndarray:
    """Location (ky, kx) in cycles/um of the strongest peak in an annulus around k0.

    The spectrum is divided by the detection OTF: the carrier is the specimen's DC moved to k,
    and only after undoing the OTF's fall-off is it the maximum (|S(q)| <= S(0)).
    """
    ny, nx = harmonic.shape
    window = np.outer(np.hanning(ny), np.hanning(nx))
    spectrum = np.abs(np.fft.fft2((harmonic - harmonic.mean()) * window, s=(pad * ny, pad * nx)))
    ky = np.fft.fftfreq(pad * ny, pixel_um)[:, None]
    kx = np.fft.fftfreq(pad * nx, pixel_um)[None, :]
    otf = ideal_otf_radial(np.hypot(ky, kx) / OPTICS.cutoff_per_um())
    spectrum = np.where(otf > 0.02, spectrum / np.maximum(otf, 0.02), 0.0)
    annulus = (np.hypot(ky, kx) > 0.8 * k0) & (np.hypot(ky, kx) < 1.2 * k0)
    iy, ix = np.unravel_index(np.argmax(np.where(annulus, spectrum, 0)), spectrum.shape)
    return np.array([ky[iy, 0], kx[0, ix]])


@pytest.mark.parametrize("mode", ["linear", "nonlinear"])
def test_raw_spectrum_has_first_order_carriers_at_configured_k(mode: str) -> None:
    size = 128
    raw, _, _, params = simulate_sample("er", size=size, level=6, mode=mode, seed=7)
    pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
    expected = pattern_wavevectors(pattern, OPTICS)
    assert np.allclose(params["k_vectors_per_um"], expected)
    phases = pattern_phases(pattern)
    stack = raw[0].astype(np.float64).reshape(pattern.n_angles, pattern.n_phases, size, size)
    k0 = float(np.hypot(*expected[0]))
    df = 1.0 / (size * OPTICS.pixel_size_um)  # one frequency pixel, cycles/um
    for angle in range(pattern.n_angles):
        # Phase-demodulating the frames keeps the +1 order only: its carrier sits at +k_d.
        harmonic = np.tensordot(np.exp(-1j * phases), stack[angle], axes=1)
        peak = _carrier_peak(harmonic, OPTICS.pixel_size_um, k0)
        assert np.all(np.abs(peak - expected[angle]) <= 0.5 * df), (angle, peak, expected[angle])
        measured_deg = math.degrees(math.atan2(peak[0], peak[1]))
        assert measured_deg == pytest.approx(params["angles_deg"][angle], abs=1.0)


def _attenuated_otf(k: np.ndarray) -> np.ndarray:
    # fairSIM's estimated OTF: ideal OTF times a^(k/kc), as a measured OTF would fall off.
    v = k / OPTICS.cutoff_per_um()
    return ideal_otf_radial(v) * 0.3**v


@pytest.mark.parametrize("otf", [None, _attenuated_otf])
def test_uniform_specimen_gives_the_configured_pattern_phase_and_modulation(otf: object) -> None:
    pattern = PatternConfig.linear(modulation=0.8)
    model = SIMForwardModel(pattern, OPTICS, CAMERA, (64, 64), otf=otf)  # type: ignore[arg-type]
    bands = model.prepare(np.ones(model.fine_shape, np.float32))
    p = OPTICS.pixel_size_um
    y, x = np.meshgrid(np.arange(64) * p, np.arange(64) * p, indexing="ij")
    interior = (slice(8, -8), slice(8, -8))
    for frame in range(pattern.n_frames):
        angle, phase = divmod(frame, pattern.n_phases)
        ky, kx = model.wavevectors[angle]
        img = model.expected_frame(bands, frame, scale=1.0) - CAMERA.background_photons
        # Camera pixels integrate the pattern: its contrast is m * OTF(k) * sinc(ky p) sinc(kx p).
        k = np.array(math.hypot(ky, kx))
        otf_k = _attenuated_otf(k) if otf else ideal_otf_radial(k / OPTICS.cutoff_per_um())
        contrast = 0.8 * otf_k * np.sinc(ky * p) * np.sinc(kx * p)
        ideal = 1.0 + contrast * np.cos(2 * np.pi * (ky * y + kx * x) + model.phases[phase])
        np.testing.assert_allclose(img[interior], ideal[interior], atol=2e-3)


def test_flat_field_photon_statistics_match_the_camera_model() -> None:
    camera = CameraConfig(background_photons=10.0)
    pattern = PatternConfig.linear(modulation=0.0)
    model = SIMForwardModel(pattern, OPTICS, camera, (128, 128), fluctuation=0.0)
    bands = model.prepare(np.ones(model.fine_shape, np.float32))
    photons = 40.0
    raw = model.render_stack(bands, photons=photons, rng=np.random.default_rng(1))
    adu = raw[:, 8:-8, 8:-8].astype(np.float64)
    electrons = camera.qe * (photons + camera.background_photons)
    mean = camera.offset_adu + electrons / camera.gain_e_per_adu
    var = (electrons + camera.read_noise_e**2) / camera.gain_e_per_adu**2 + 1 / 12
    assert adu.mean() == pytest.approx(mean, rel=0.01)
    assert adu.var() == pytest.approx(var, rel=0.03)


def _pattern_phase(img: np.ndarray, k: np.ndarray, pixel_um: float) -> float:
    y, x = np.meshgrid(*(np.arange(n) * pixel_um for n in img.shape), indexing="ij")
    inner = (slice(8, -8), slice(8, -8))
    carrier = np.exp(-2j * np.pi * (k[0] * y + k[1] * x))
    return float(np.angle(((img - img[inner].mean()) * carrier)[inner].sum()))


def test_phase_offsets_and_jitter_move_the_pattern() -> None:
    pattern = PatternConfig.linear()
    offsets = [0.3, -1.0, 2.0]
    model = SIMForwardModel(
        pattern, OPTICS, CAMERA, (64, 64), phase_offsets=offsets, phase_jitter=0.1
    )
    bands = model.prepare(np.ones(model.fine_shape, np.float32))
    p = OPTICS.pixel_size_um
    for angle, offset in enumerate(offsets):
        k = model.wavevectors[angle]
        frame = model.expected_frame(bands, angle * 3 + 1, scale=1.0)
        expected = model.phases[1] + offset
        assert np.angle(np.exp(1j * (_pattern_phase(frame, k, p) - expected))) == pytest.approx(
            0.0, abs=0.02
        )
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(60):
        frame = model.render_frame(bands, 0, photons=5000.0, rng=rng).astype(np.float64)
        errors.append(
            np.angle(np.exp(1j * (_pattern_phase(frame, model.wavevectors[0], p) - 0.3)))
        )
    assert np.std(errors) == pytest.approx(0.1, rel=0.3)
    with pytest.raises(ValueError, match="one global phase per angle"):
        SIMForwardModel(pattern, OPTICS, CAMERA, (64, 64), phase_offsets=[0.0])


def test_frames_fluctuate_in_intensity_by_the_configured_fraction() -> None:
    camera = CameraConfig(background_photons=0.0, read_noise_e=0.0)
    model = SIMForwardModel(
        PatternConfig.linear(modulation=0.0), OPTICS, camera, (32, 32), fluctuation=0.05
    )
    bands = model.prepare(np.ones(model.fine_shape, np.float32))
    rng = np.random.default_rng(3)
    means = [model.render_frame(bands, 0, photons=5000.0, rng=rng).mean() for _ in range(300)]
    signal = np.asarray(means) - camera.offset_adu
    assert signal.std() / signal.mean() == pytest.approx(0.05, rel=0.15)


def test_signal_level_sets_mean_photons_over_the_structure() -> None:
    model = SIMForwardModel(PatternConfig.linear(), OPTICS, CAMERA, (96, 96), fluctuation=0.0)
    bands = model.prepare(Specimen("microtubules", 96 * OPTICS.pixel_size_um, seed=3))
    frames = [model.expected_frame(bands, f, photons=100.0) for f in range(9)]
    wide_field = np.mean(frames, axis=0) - CAMERA.background_photons
    assert signal_level(wide_field) == pytest.approx(100.0, rel=0.02)


def test_ground_truth_holds_frequencies_beyond_the_widefield_cutoff() -> None:
    size = 96
    model = SIMForwardModel(PatternConfig.linear(), OPTICS, CAMERA, (size, size))
    specimen = Specimen("f-actin", size * OPTICS.pixel_size_um, seed=2)
    gt = model.ground_truth(specimen)
    bands = model.prepare(specimen)
    assert gt.shape == (2 * size, 2 * size)

    def power(img: np.ndarray, pixel: float) -> tuple[np.ndarray, np.ndarray]:
        # A window keeps the crop's edges from leaking power to all frequencies.
        window = np.outer(np.hanning(img.shape[0]), np.hanning(img.shape[1]))
        f = np.abs(np.fft.fft2((img - img.mean()) * window)) ** 2
        k = np.hypot(*np.meshgrid(*(np.fft.fftfreq(n, pixel) for n in img.shape), indexing="ij"))
        return f, k

    kc, passband = model.cutoff_per_um, model.passband_per_um
    f_gt, k_gt = power(gt, OPTICS.pixel_size_um / 2)
    beyond = f_gt[(k_gt > 1.1 * kc) & (k_gt < 0.95 * passband)].sum() / f_gt.sum()
    assert beyond > 1e-3  # real content between the wide-field and the SIM cutoff
    assert f_gt[k_gt > 1.05 * passband].sum() / f_gt.sum() < 1e-6  # nothing SIM cannot see
    f_wf, k_wf = power(bands.b0, OPTICS.pixel_size_um)
    assert f_wf[k_wf > 1.05 * kc].sum() / f_wf.sum() < 1e-6


def test_ground_truth_matches_the_widefield_after_the_detection_otf() -> None:
    # The GT and the raw frames come from the same specimen on the same coordinates: the
    # GT blurred to the wide-field resolution and binned to camera pixels is the WF image.
    size = 64
    model = SIMForwardModel(PatternConfig.linear(), OPTICS, CAMERA, (size, size))
    specimen = Specimen("ccps", size * OPTICS.pixel_size_um, seed=5)
    gt = model.ground_truth(specimen)
    b0 = model.prepare(specimen).b0
    k = np.hypot(
        *np.meshgrid(
            *(np.fft.fftfreq(n, OPTICS.pixel_size_um / 2) for n in gt.shape), indexing="ij"
        )
    )
    otf_wf = ideal_otf_radial(k / model.cutoff_per_um)
    otf_gt = ideal_otf_radial(k / model.passband_per_um)
    ratio = np.divide(otf_wf, otf_gt, out=np.zeros_like(otf_wf), where=otf_gt > 0)
    blurred = np.real(np.fft.ifft2(np.fft.fft2(gt) * ratio))
    binned = blurred.reshape(size, 2, size, 2).mean(axis=(1, 3))
    inner = (slice(6, -6), slice(6, -6))
    assert np.corrcoef(binned[inner].ravel(), b0[inner].ravel())[0, 1] > 0.999
    assert binned[inner].mean() == pytest.approx(b0[inner].mean(), rel=0.01)


@pytest.mark.parametrize("mode", ["linear", "nonlinear"])
def test_frames_match_a_brute_force_oversampled_reference(mode: str) -> None:
    # Reference: specimen x pattern on an 8x finer grid, blurred by the OTF there and binned
    # to camera pixels, the textbook way. The band model must reproduce it.
    size, fine, pad = 32, 8, 8
    p = OPTICS.pixel_size_um
    pattern = PatternConfig.linear() if mode == "linear" else PatternConfig.nonlinear()
    model = SIMForwardModel(pattern, OPTICS, CAMERA, (size, size))
    specimen = Specimen("ccps", size * p, seed=4)
    bands = model.prepare(specimen)

    n = (size + 2 * pad) * fine
    pf = p / fine
    origin = pf / 2 - pad * p
    density = specimen.density(0.0, (n, n), pf, origin_um=(origin, origin)).astype(np.float64)
    coord = origin + np.arange(n) * pf - p / 2  # from the centre of camera pixel [0, 0]
    y, x = np.meshgrid(coord, coord, indexing="ij")
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(n, pf), np.fft.fftfreq(n, pf), indexing="ij"))
    otf = ideal_otf_radial(k / OPTICS.cutoff_per_um())
    for frame in range(0, pattern.n_frames, 4):
        angle, phase = divmod(frame, pattern.n_phases)
        ky, kx = model.wavevectors[angle]
        arg = 2 * np.pi * (ky * y + kx * x) + model.phases[phase]
        illumination = 1.0 + sum(
            m * np.cos(order * arg) for order, m in enumerate(model.strengths, start=1)
        )
        image = np.real(np.fft.ifft2(np.fft.fft2(density * illumination) * otf))
        binned = image.reshape(n // fine, fine, n // fine, fine).mean(axis=(1, 3))
        reference = binned[pad:-pad, pad:-pad]
        ours = model.expected_frame(bands, frame, scale=1.0) - CAMERA.background_photons
        inner = (slice(4, -4), slice(4, -4))
        err = np.abs(ours[inner] - reference[inner]).max() / reference[inner].max()
        assert err < 2e-3, (frame, err)
