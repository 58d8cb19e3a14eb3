"""The calibrated step size (steering that shows) and the target probability per step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biaslens.audit.steer import (
    calibrate_step,
    course_or_numeric_step,
    parse_step_size,
    steer_audit,
)
from biaslens.errors import BiasLensError
from biaslens.report.plots_steer import plot_steer_grid, steer_path

from .test_steer import LinearGenerator, PlantedClassifier

torch.set_num_threads(1)


class ConstantGenerator(LinearGenerator):
    """Ignores z: no step size can move the target."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(z.shape[0], 3, 2, 2) + 0.0 * z.sum()


@pytest.mark.parametrize("direction", ["both", "+", "-"])
@pytest.mark.parametrize("target", ["Male", "-Male"])
def test_calibrated_step_crosses_the_range_that_the_course_rule_does_not(direction, target):
    g, c = LinearGenerator(), PlantedClassifier()
    course = steer_audit(g, c, target, n_samples=32, steps=10, n_boot=0, direction=direction)
    cal = steer_audit(g, c, target, n_samples=32, steps=10, n_boot=0, direction=direction,
                      step_size="calibrated")
    info = cal.extra["step_calibration"]
    assert info["reached"] and info["step_size"] == cal.step_size > course.step_size
    toward = [p * cal.sign > 0 for p in cal.push_signs]
    ends = cal.target_probability[:, -1]
    # The audit (32 faces) is the pilot (16 faces) at the rescaled step: same crossing.
    for end, t in zip(ends, toward, strict=True):
        assert (end >= 0.75) if t else (end <= 0.25)
    # ... whereas the course's 1/steps barely moves this generator.
    assert np.ptp(course.target_probability) < 0.5 * np.ptp(cal.target_probability)
    np.testing.assert_allclose(cal.target_probability[:, 0], cal.target_probability[0, 0])


def test_pilot_step_is_rescaled_to_the_audit_size():
    g, c = LinearGenerator(), PlantedClassifier()
    small = calibrate_step(g, c, 0, n_samples=16, steps=10)
    big = calibrate_step(g, c, 0, n_samples=64, steps=10)
    assert small.pilot_n == big.pilot_n == 16
    assert big.step_size == pytest.approx(4 * small.step_size)
    assert small.tried[0] == pytest.approx(1 / 10)  # the first pilot is the course's rule


def test_a_generator_that_cannot_move_the_target_is_reported_not_reached():
    cal = calibrate_step(ConstantGenerator(), PlantedClassifier(), 0, n_samples=8, steps=3,
                         max_tries=3)
    assert not cal.reached and len(cal.tried) == 3
    assert cal.to_dict()["reached"] is False


def test_calibrate_range_is_checked():
    with pytest.raises(BiasLensError, match="calibrate_range"):
        calibrate_step(LinearGenerator(), PlantedClassifier(), 0, n_samples=8, steps=3,
                       calibrate_range=(0.8, 0.2))


def test_parse_step_size():
    assert parse_step_size("course") == "course" and parse_step_size(" 0.25 ") == 0.25
    for bad in ("0", "-1", "nan", "fast"):
        with pytest.raises(BiasLensError, match="--step-size"):
            parse_step_size(bad)
    assert course_or_numeric_step("course", 4) == course_or_numeric_step(None, 4) == 0.25
    with pytest.raises(BiasLensError, match="calibrate_step"):
        course_or_numeric_step("calibrated", 4)


def test_the_path_runs_from_away_to_toward_with_both_ends_and_probabilities():
    g, c = LinearGenerator(), PlantedClassifier()
    r = steer_audit(g, c, "-Male", n_samples=8, steps=6, n_boot=0, step_size="calibrated",
                    n_show=3)
    frames, probs = steer_path(r, n_cols=5)
    assert frames.shape[:2] == (3, 5) and probs.shape == (5,)
    assert probs[0] < probs[len(probs) // 2] < probs[-1]  # away -> Z0 -> toward
    assert probs[-1] >= 0.75 and probs[0] <= 0.25
    # the ends are the last frames of the two passes; the middle column is Z0 (shared)
    toward = int(np.argmax([p * r.sign > 0 for p in r.push_signs]))
    np.testing.assert_array_equal(frames[:, -1], r.images[toward * 6 + 5])
    np.testing.assert_array_equal(frames[:, 2], r.images[0])
    assert not np.array_equal(frames[:, 0], frames[:, -1])
    fig = plot_steer_grid(r, n_cols=5)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == [f"{1 - p:.2f}" for p in probs]  # P(Male) of a "-Male" run
    assert "less Male" in fig._suptitle.get_text()
    assert "calibrated" in fig._suptitle.get_text()


def test_the_settings_line_says_how_the_step_was_chosen():
    from biaslens.report.plots_steer import steer_settings_line

    g, c = LinearGenerator(), PlantedClassifier()
    cal = steer_audit(g, c, "-Male", n_samples=16, steps=5, n_boot=0, step_size="calibrated")
    ends = 1 - cal.target_probability[:, -1]               # P(Male) of a "-Male" run
    assert (f"calibrated: mean P(Male) {ends.min():.2f} to {ends.max():.2f}"
            in steer_settings_line(cal))
    course = steer_audit(g, c, "-Male", n_samples=16, steps=5, n_boot=0)
    assert "step size 0.2 = 1/steps, the course's rule" in steer_settings_line(course)
