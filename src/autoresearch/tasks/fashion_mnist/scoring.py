"""Scoring of the fashion_mnist task in the evaluator: error rates of the sealed splits."""

from autoresearch.tasks._image_scoring import ImageScoring, ImageSpec

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
SPEC = ImageSpec(shape=(1, 28, 28), classes=CLASSES, mean=(0.2860,), std=(0.3530,))
SCORING = ImageScoring(SPEC)
