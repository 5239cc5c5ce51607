"""The research loop: plan, propose, validate, run seeds, decide, record."""

from autoresearch.engine.loop import Observer, ResearchLoop, RunSettings

__all__ = ["Observer", "ResearchLoop", "RunSettings"]
