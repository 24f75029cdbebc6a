"""Mesa agents: labs, the AI systems they train, and regulators. They hold decisions, not equations."""

from sim.agents.ai_system import AISystem
from sim.agents.lab import Lab
from sim.agents.regulator import Regulator

__all__ = ["AISystem", "Lab", "Regulator"]
