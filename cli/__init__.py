"""The ``ixsim`` command line: thin adapters over the public functions of the model and analysis."""
