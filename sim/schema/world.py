"""World sections of a scenario: time, hardware, investment, software, labour, capability, tasks."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from ixsim.sim.schema.base import Strict, param


class Meta(Strict):
    name: str = Field("unnamed", min_length=1, max_length=120, description="scenario name")
    description: str = Field("", max_length=4000, description="what the scenario represents")
    start_year: float = param(2023.0, 2000.0, 2100.0, "year", source="CAL-4b",
                              description="start of the run; 2023.0 is the documented GPT-4 state")
    end_year: float = param(2045.0, 2000.5, 2200.0, "year",
                            assumption="long enough for the slow scenarios to finish their takeoff",
                            description="end of the run")
    steps_per_year: int = param(
        12, 1, 365, "steps/year",
        assumption="agents decide monthly; the continuous state is sub-stepped",
        description="agent decision steps per year")

    @field_validator("end_year")
    @classmethod
    def _end_after_start(cls, value: float, info: ValidationInfo) -> float:
        start = info.data.get("start_year")
        if start is not None and value <= start:
            raise ValueError(f"must be after start_year ({start})")
        return value


class Hardware(Strict):
    flop_per_s_per_usd_2023: float = param(
        1.2e10, 1e6, 1e16, "effective FLOP/s per USD of hardware",
        assumption="an H100 (~1e15 dense bf16 FLOP/s) at ~$33k with networking, used at ~40%",
        description="price-performance of ML hardware at start_year, utilisation included")
    price_performance_growth_per_year: float = param(
        1.391, 0.5, 10.0, "x/year", source="CAL-3b",
        description="growth of FLOP/s per USD; 2^(1/2.1 years)")
    price_performance_ceiling_oom: float = param(
        4.0, 0.0, 30.0, "OOM above start",
        assumption="physical limits of CMOS-like hardware, a few OOM above 2023",
        description="headroom of price-performance before it stops growing")
    utilisation_growth_per_year: float = param(
        1.408, 0.5, 10.0, "x/year", source="CAL-3c",
        description="utilisation/precision gains beyond hardware: 4.7 / (2.4 x 1.391)")
    utilisation_ceiling_oom: float = param(
        1.0, 0.0, 30.0, "OOM above start",
        assumption="lower precision and better utilisation give about 10x before saturating",
        description="headroom of the utilisation/precision factor")
    depreciation_per_year: float = param(
        0.25, 0.01, 2.0, "1/year", assumption="accelerators are written off over about four years",
        description="fraction of the compute stock retired per year")


class Investment(Strict):
    spend_growth_per_year: float = param(
        2.4, 0.5, 20.0, "x/year", source="CAL-4a",
        description="investor-driven growth of each lab's compute spending")
    max_spend_growth_per_year: float = param(
        4.0, 1.0, 1000.0, "x/year",
        assumption="data centres and their power take a year or two to build: one lab's compute "
                   "spending rises at most 4x a year (above the 2.4x trend, CAL-4a, so the trend "
                   "never meets it; it binds when revenue or a lifted pause would jump)",
        description="fastest growth of one lab's compute spending")
    gwp_usd_2023: float = param(
        1.05e14, 1e12, 1e17, "USD/year",
        assumption="gross world product 2023 (IMF), order of magnitude only",
        description="gross world product at start_year")
    gwp_growth_per_year: float = param(1.03, 0.5, 100.0, "x/year",
                                       assumption="recent real world growth, before AI",
                                       description="growth of gross world product without AI")
    max_spend_share_of_gwp: float = param(
        0.02, 1e-6, 0.5, "fraction", assumption="budgets are finite: no lab spends over 2% of GWP",
        description="what funders and hyperscalers can supply one lab; spending saturates "
                    "smoothly at it (2025 hyperscaler capex, CAL-12b, is ~0.4% of GWP)")
    value_capture_share: float = param(
        0.127, 0.0, 1.0, "fraction", source="CAL-12a (fit)",
        description="share of the value of the work hours AI can do (at its 50% horizon) that "
                    "labs earn: fitted so the baseline's total revenue matches the two "
                    "reporting labs' ~$17B/yr in 2025-08/09 (CAL-12a rows; ~$50B by 2026.2 "
                    "against their ~$55B)")
    automated_task_productivity: float = param(
        10.0, 1.0, 1e6, "x",
        assumption="an automated economic task costs about a tenth of the human one (order of "
                   "magnitude; contested, sweeps vary it)",
        description="output per unit cost of automated against human work: gross world product "
                    "rises by 1 / ((1 - e) + e / x) when a share e of work hours is automated")
    revenue_reinvestment_share: float = param(
        0.5, 0.0, 1.0, "fraction", assumption="half of revenue goes back into compute",
        description="share of revenue spent on compute once it exceeds investor funding")


class Software(Strict):
    returns_r: float = param(1.2, 0.05, 10.0, "doublings/doubling", source="CAL-7b",
                             description="returns to software R&D r = lambda / beta")
    beta: float = param(
        0.5, 0.01, 5.0, "-",
        assumption="ideas-getting-harder exponent; lambda = r*beta ~ 0.6, contested",
        description="exponent of S in d ln S/dt = rate (R/R0)^lambda S^-beta")
    rate_per_year: float = param(
        1.04, 0.0, 50.0, "1/year", source="CAL-2",
        description="mean d ln S/dt of the reference lab over the fit window: ln 2 / (8/12)")
    fit_window_years: float = param(
        2.0, 0.0, 20.0, "years",
        assumption="2023 to the last dated observations (2025): every setting of r, beta, "
                   "labour_weight and compute_rho reproduces CAL-2 over the years the data cover",
        description="the software coefficient is refit so the humans-only path averages "
                    "rate_per_year over this many years from the start; 0 uses rate_per_year "
                    "as the coefficient itself (the analytic-limit scenarios)")
    ceiling_oom: float = param(
        10.0, 0.5, 40.0, "OOM", source="CAL-7b",
        description="headroom of the software level S above start (6-16 OOM)")
    labour_weight: float = param(
        0.46, 0.0, 1.0, "-", source="CAL-2, CAL-7b, CAL-1a, CAL-7c (derived)",
        description="CES weight of cognitive labour in research input R: the weight w at which "
                    "R grows at g_S / r = 0.87/yr (CAL-2 / CAL-7b) from labour growing "
                    "0.061/yr (CAL-7c) and experiment compute 1.55/yr (CAL-1a): "
                    "w = (1.55 - 0.87) / (1.55 - 0.061)")
    compute_rho: float = param(
        0.0, -20.0, 0.9, "-",
        assumption="near Cobb-Douglas: CAL-2 saw a steady 8-month halving over 2012-23 while "
                   "compute outgrew researchers by ~14 e-folds; complements (rho < 0) would "
                   "have slowed it several-fold. The key contested compute-bottleneck "
                   "parameter: the 2023-25 data do not pin it, sweeps draw it",
        description="CES exponent between labour and experiment compute (elasticity "
                    "1/(1-rho))")


class Labour(Strict):
    researcher_growth_per_year: float = param(
        1.063, 0.5, 2.0, "x/year", source="CAL-7c",
        description="growth of the human talent pool: x18 researchers over ~47 years")
    inference_flop_per_s_per_researcher: float = param(
        1e13, 1e9, 1e20, "FLOP/s",
        assumption="2 x ~2.8e11 active parameters x ~20 tokens/s for a GPT-4-class model",
        description="inference compute that runs one AI researcher-equivalent at S = 1")
    task_rho: float = param(-1.0, -20.0, 0.9, "-",
                            assumption="R&D tasks are complements (elasticity 0.5)",
                            description="CES exponent across R&D tasks")
    ai_parallel_exponent: float = param(
        0.5, 0.05, 1.0, "-",
        assumption="many copies working at once duplicate and wait on each other: N in parallel "
                   "do the work of about sqrt(N) (peer models have such a penalty; no CAL row "
                   "gives its size; contested, sweeps vary it)",
        description="exponent psi: N AI researcher-equivalents running in parallel count as "
                    "N^psi researchers in R&D")
    handover_efolds_per_year: float = param(
        12.0, 0.1, 1e4, "e-folds/year",
        assumption="organisations hand work over in months: the share of changes humans review "
                   "(and of R&D work they do) falls at most e-fold a month",
        description="fastest fall of ln(human share) of review and R&D work after a stronger "
                    "system is deployed")
    review_ratio: float = param(
        10.0, 0.01, 1e6, "researcher-equivalents per reviewer",
        assumption="one human can check the output of about ten AI researchers",
        description="AI output one human reviewer can check while review is "
                    "not automated")


class Capability(Strict):
    reference_training_flop: float = param(
        2.1e25, 1e18, 1e40, "FLOP", source="CAL-4b",
        description="training compute of the 2023 frontier system")
    reference_horizon_minutes: float = param(
        2.0, 0.01, 1e6, "minutes", source="CAL-5c (fit), CAL-5b",
        description="50% time horizon of that system in the model's mapping: fitted with "
                    "post_training_gain and post_training_gain_oom to the METR rows 2023-03 .. "
                    "2025-04 (ixsim backtest --fit-until 2025-04-17)")
    oom_per_horizon_doubling: float = param(
        0.656, 0.01, 10.0, "OOM of effective FLOP", source="CAL-5a, CAL-1a, CAL-2 (derived)",
        description="effective compute per horizon doubling, the long-run trend: METR's ~7-month "
                    "doubling 2019-25 (CAL-5a) over effective compute growing 13.3x/yr (CAL-1a "
                    "x CAL-2): log10(13.3) x 7/12; the 2024-25 rows' excess over it is "
                    "post_training_gain")
    post_training_gain: float = param(
        8.0, 1.0, 1e4, "factor on the horizon", source="CAL-5c (fit), CAL-5a",
        description="one-time gain in the 50% horizon from post-training for reasoning (the "
                    "2024-25 METR rows run ~3 doublings above the long-run trend of CAL-5a): "
                    "fitted with post_training_gain_oom and reference_horizon_minutes to the "
                    "METR rows 2023-03 .. 2025-04; 1 turns it off")
    post_training_gain_oom: float = param(
        1.7, 0.1, 10.0, "OOM of effective FLOP above the reference", source="CAL-5c (fit)",
        description="where half of post_training_gain has arrived: effective compute above "
                    "the reference system (a logistic step 0.2 OOM wide, an assumption: "
                    "o1-preview to o3 took about 0.8 OOM of the frontier's growth)")
    automation_reliability: float = param(
        0.2, 1e-4, 1.0, "fraction of the 50% horizon",
        assumption="a task is automated when it fits in about a fifth of the 50% horizon, where "
                   "success is reliable enough to hand over",
        description="task length automated, as a fraction of the 50% time horizon")
    economy_task_hours_min: float = param(0.02, 1e-5, 1e5, "hours",
                                          assumption="the shortest paid tasks take about a minute",
                                          description="shortest economic task (log-uniform spread)")
    economy_task_hours_max: float = param(2000.0, 1e-5, 1e6, "hours",
                                          assumption="the longest economic projects take about a "
                                                     "working year",
                                          description="longest economic task (log-uniform spread)")

    @field_validator("economy_task_hours_max")
    @classmethod
    def _economy_range(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("economy_task_hours_min")
        if low is not None and value <= low:
            raise ValueError(f"must exceed economy_task_hours_min ({low})")
        return value


class Scaling(Strict):
    """Chinchilla loss L(N, D) = E + A/N^alpha + B/D^beta; gives the frontier's loss in nats."""

    E: float = param(1.69, 0.0, 10.0, "nats/token", source="CAL-6a", description="irreducible loss")
    A: float = param(406.4, 1e-3, 1e6, "nats", source="CAL-6a", description="parameter term scale")
    B: float = param(410.7, 1e-3, 1e6, "nats", source="CAL-6a", description="data term scale")
    alpha: float = param(0.34, 0.01, 2.0, "-", source="CAL-6a", description="parameter exponent")
    beta: float = param(0.28, 0.01, 2.0, "-", source="CAL-6a", description="data exponent")


class TaskCategory(Strict):
    """An AI R&D task category; its tasks' lengths spread log-uniformly over [min, max] hours."""

    name: str = Field(..., min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    weight: float = param(1.0, 0.0, 1e3, "-", assumption="equal shares of R&D effort",
                          description="share of R&D effort (normalised over non-review categories)")
    task_hours_min: float = param(0.25, 1e-6, 1e6, "hours", assumption="per category, see scenario",
                                  description="shortest task of the category")
    task_hours_max: float = param(
        100.0, 1e-6, 1e6, "hours", assumption="per category, see scenario",
        description="longest task of the category")
    review: bool = Field(False, description="true for human review of AI-made changes")

    @field_validator("task_hours_max")
    @classmethod
    def _range(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("task_hours_min")
        if low is not None and value <= low:
            raise ValueError(f"must exceed task_hours_min ({low})")
        return value


def _task(name: str, lo: float, hi: float, review: bool = False) -> TaskCategory:
    return TaskCategory(name=name, task_hours_min=lo, task_hours_max=hi, review=review)


# assumption: task lengths per category; automation starts once the reliable horizon reaches the
# shortest tasks and ends at the longest. Review of AI-made changes is the longest tail.
DEFAULT_TASKS = [
    _task("tune_parameters", 0.25, 40.0),
    _task("optimize_inference", 0.5, 160.0),
    _task("evaluate_weaknesses", 0.5, 160.0),
    _task("select_training_methods", 2.0, 500.0),
    _task("improve_reasoning", 4.0, 1000.0),
    _task("design_architectures", 8.0, 2000.0),
    _task("human_review", 1.0, 2000.0, review=True),
]


