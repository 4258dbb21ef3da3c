"""clip_grad_norm: joint L2 norm and rescaling, the input untouched."""

from bplab_checks import check_clip_grad_norm_sane, check_matches_reference, clip_cases
from otter.test_files import test_case

OK_FORMAT = False
name = "clip_grad_norm"
points = 2


@test_case(name="clip_grad_norm: clips to max norm", hidden=False)
def clips_to_max_norm(clip_grad_norm):
    check_clip_grad_norm_sane(clip_grad_norm)


@test_case(name="clip_grad_norm: matches reference", hidden=True)
def matches_reference(clip_grad_norm):
    from solutions.hw2 import clip_grad_norm as reference

    check_matches_reference(
        clip_grad_norm, reference, "clip_grad_norm", clip_cases(), ("clipped", "total_norm")
    )
