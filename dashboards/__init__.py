"""Panel dashboards (explorer, sweeps, sensitivity): they read the results store and call the model
through the same public functions as the CLI (`ixsim.sim.model.simulate`)."""
