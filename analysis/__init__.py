"""Analysis: the results store, figures and (later) sweeps and sensitivity; reads model outputs."""
