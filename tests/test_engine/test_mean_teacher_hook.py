"""The mean teacher: DAFormer's EMA schedule against a hand computation, and
the hook's checks. Resume and DDP identity: tests/test_faults."""
import copy
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mmseg_fdacl.engine.hooks import MeanTeacherHook
from mmseg_fdacl.models import TeacherEMA
from mmseg_fdacl.models.teacher_ema import ema_alpha


def test_ema_alpha_warm_start():
    assert ema_alpha(0.999, 1) == 0.5
    assert ema_alpha(0.999, 2) == pytest.approx(2 / 3)
    assert ema_alpha(0.999, 10**6) == 0.999
    assert ema_alpha(0.6, 2) == 0.6


def test_teacher_ema_equals_hand_computation():
    torch.manual_seed(0)
    student = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = TeacherEMA(student, alpha=0.6)
    assert all(not p.requires_grad for p in ema.module.parameters())
    # Update 0: the teacher starts as the student.
    with torch.no_grad():
        student[0].weight.add_(1.0)
    ema.update_parameters(student)
    expect = student[0].weight.detach().clone()
    assert torch.equal(ema.module[0].weight, expect)
    for step, alpha in ((1, 0.5), (2, 0.6), (3, 0.6)):
        with torch.no_grad():
            student[0].weight.mul_(-1.5).add_(0.25)
        student(torch.randn(5, 3))  # BN running statistics move
        ema.update_parameters(student)
        expect = alpha * expect + (1 - alpha) * student[0].weight.detach()
        torch.testing.assert_close(ema.module[0].weight, expect,
                                   rtol=0, atol=1e-6)
        # Buffers are copied, not averaged.
        assert torch.equal(ema.module[1].running_mean,
                           student[1].running_mean)
        assert int(ema.steps) == step + 1
    state = ema.state_dict()
    assert 'steps' in state and 'module.0.weight' in state


@pytest.mark.parametrize('alpha', [1.0, -0.1, float('nan'), True])
def test_teacher_ema_rejects_bad_alpha(alpha):
    with pytest.raises(ValueError, match='alpha'):
        TeacherEMA(nn.Linear(2, 2), alpha=alpha)


def test_hook_rejects_bad_evaluate():
    with pytest.raises(ValueError, match="'student', 'teacher'"):
        MeanTeacherHook(evaluate='ema')


def test_hook_needs_a_segmentor_that_takes_a_teacher():
    runner = SimpleNamespace(model=nn.Linear(2, 2))
    with pytest.raises(TypeError, match='SelfTrainingEncoderDecoder'):
        MeanTeacherHook().before_run(runner)


class _Student(nn.Module):

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.teacher = None

    def attach_teacher(self, teacher):
        # Not a submodule (as SelfTrainingEncoderDecoder keeps it).
        self.__dict__['teacher'] = teacher


def test_hook_lends_saves_restores_and_swaps():
    runner = SimpleNamespace(model=_Student(), _resume=True)
    hook = MeanTeacherHook(alpha=0.9, evaluate='teacher')
    hook.before_run(runner)
    assert runner.model.teacher is hook.ema.module
    hook.before_train(runner)
    with torch.no_grad():
        runner.model.lin.weight.add_(1.0)
    hook.after_train_iter(runner, 0)
    ckpt = {}
    hook.before_save_checkpoint(runner, ckpt)
    assert int(ckpt['mean_teacher']['steps']) == 2
    teacher_w = hook.ema.module.lin.weight.detach().clone()
    student_w = runner.model.lin.weight.detach().clone()
    # Evaluation on the teacher's weights, then the student's back.
    hook.before_val_epoch(runner)
    assert torch.equal(runner.model.lin.weight, teacher_w)
    hook.after_val_epoch(runner)
    assert torch.equal(runner.model.lin.weight, student_w)
    # A new run restores the teacher from the checkpoint, not the student.
    other = SimpleNamespace(model=copy.deepcopy(runner.model), _resume=True)
    hook2 = MeanTeacherHook(alpha=0.9)
    hook2.before_run(other)
    hook2.after_load_checkpoint(other, ckpt)
    hook2.before_train(other)
    assert torch.equal(hook2.ema.module.lin.weight, teacher_w)
    assert int(hook2.ema.steps) == 2
    # A checkpoint of another model is refused by name.
    bad = dict(mean_teacher={'steps': torch.tensor(3)})
    with pytest.raises(KeyError, match='another model config'):
        hook2.after_load_checkpoint(other, bad)


def test_evaluating_a_teacher_that_was_never_saved_is_an_error():
    runner = SimpleNamespace(model=_Student(), _resume=False)
    hook = MeanTeacherHook(evaluate='teacher')
    hook.before_run(runner)
    hook.after_load_checkpoint(runner, {'state_dict': {}})
    with pytest.raises(RuntimeError, match="evaluate='student'"):
        hook.before_test_epoch(runner)
