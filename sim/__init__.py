"""ixsim's model: scenario schema and loading, dynamics, Mesa agents, the takeoff model and its run
result (no I/O beyond reading a scenario, the published sources or a measured-calibration JSON;
no plotting)."""
