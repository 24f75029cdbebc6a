"""Mesa agents: labs, the AI systems they train, and regulators. They hold decisions, not equations."""

from ixsim.sim.agents.ai_system import AISystem
from ixsim.sim.agents.lab import Lab
from ixsim.sim.agents.regulator import Regulator

__all__ = ["AISystem", "Lab", "Regulator"]
