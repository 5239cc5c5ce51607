"""Scoring of the cifar10 task in the evaluator: error rates of the sealed splits."""

from autoresearch.tasks._image_scoring import ImageScoring, ImageSpec

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
SPEC = ImageSpec(shape=(3, 32, 32), classes=CLASSES, mean=(0.4914, 0.4822, 0.4465),
                 std=(0.2470, 0.2435, 0.2616))
SCORING = ImageScoring(SPEC)
