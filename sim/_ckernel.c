/* C forms of four of sim/kernel.py's laws: step_lab, plan_spending, price_performance and
 * review_needs.
 *
 * Optional: sim/kernel.py uses these when this module imports (and IXSIM_PURE_PYTHON is not
 * set), else its own Python functions, which stay the specification. Each function here
 * performs the same floating-point operations in the same order as its Python form, with the
 * same libm functions (CPython's math.exp, log, log1p, expm1 and float ** are libm's exp, log,
 * log1p, expm1 and pow for ordinary finite input), so the results are bit for bit the same;
 * tests/test_kernel.py checks that. Build without -ffast-math and with -ffp-contract=off (a
 * fused multiply-add rounds once where Python rounds twice).
 *
 * Anything out of the ordinary -- an argument or attribute that is not exactly a float, a
 * libm call whose input or result is not finite (where CPython may raise), a division by zero
 * (ZeroDivisionError in Python), a branch the Python form hands to a pure function of
 * sim/dynamics -- makes the C form call the Python form with the same arguments instead,
 * before it has written anything, so exceptions and rare branches are Python's own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* The Python forms (the fallbacks) and the laws' thresholds, given by sim/kernel.py (bind). */
static PyObject *py_step_lab = NULL, *py_plan_spending = NULL, *py_price_performance = NULL,
    *py_review_needs = NULL;
static double REVIEW_SOFTNESS, PHI_TINY, REL_MIN, K_ZERO, CD, NO_REVIEW_NEED, MAX_LN_GROWTH, SHARPNESS, LN10,
    MAX_DU_PER_SUBSTEP;
static long long MAX_SUBSTEPS_PER_STEP;
static Py_ssize_t fallbacks = 0; /* calls handed to the Python forms (for tests and profiling) */

/* Attribute names, interned once. */
#define NAMES(X) \
    X(handover_floor_per_step) X(review_need) X(review_need_target) X(rnd_handover) \
    X(rnd_handover_target) X(dt) X(spend_now) X(spend_next) X(export_controls) X(stock) \
    X(depreciation) X(spend0) X(entered_year) X(growth) X(decay_over_step) \
    X(decay_over_half_step) X(decayed_share_integral) X(share_inference) X(share_experiments) \
    X(inference_flop_per_s_per_researcher) X(compute0) X(rate_per_year) X(beta) \
    X(ln_software_ceiling) X(research_exponent) X(ai_parallel_exponent) X(review_ratio) \
    X(task_rho) X(labour0) X(labour_weight) X(compute_rho) X(ln_software) X(humans) \
    X(ai_researchers) X(research) X(ai_share) X(unreviewed) X(multiplier) X(reference_rate) \
    X(spend_ramp_per_step) X(revenue_reinvestment_share) X(revenue) X(log_spend_growth) \
    X(max_spend_share_of_gwp) X(start_year) X(log_flop_per_s_per_usd_2023) \
    X(log_price_performance_growth) X(log_price_performance_ceiling) X(log_utilisation_growth) \
    X(log_utilisation_ceiling) X(log_task_hours_min) X(log_task_hours_max) X(log_review_hours)
#define ENUM(name) N_##name,
enum { NAMES(ENUM) N_COUNT };
#define STRING(name) #name,
static const char *const name_text[N_COUNT] = { NAMES(STRING) };
static PyObject *name[N_COUNT];

/* ---- helpers: each sets *bad where CPython could differ (raise) or the value is unusual ---- */

/* A float argument's value; 1 if it is not exactly a float (ints would change result types). */
static inline int
as_double(PyObject *o, double *out)
{
    if (!PyFloat_CheckExact(o))
        return 1;
    *out = PyFloat_AS_DOUBLE(o);
    return 0;
}

/* obj.<name> as a double; 1 (error cleared) if missing or not exactly a float. */
static inline int
get(PyObject *obj, int n, double *out)
{
    PyObject *v = PyObject_GetAttr(obj, name[n]);
    if (v == NULL) {
        PyErr_Clear();
        return 1;
    }
    int rc = as_double(v, out);
    Py_DECREF(v);
    return rc;
}

/* obj.<name> = value; -1 on error (with the exception set). */
static inline int
set(PyObject *obj, int n, double value)
{
    PyObject *v = PyFloat_FromDouble(value);
    if (v == NULL)
        return -1;
    int rc = PyObject_SetAttr(obj, name[n], v);
    Py_DECREF(v);
    return rc;
}

/* math.exp: OverflowError where the result overflows; non-finite input left to Python. */
static inline double
m_exp(double x, int *bad)
{
    double r = exp(x);
    if (!isfinite(x) || !isfinite(r))
        *bad = 1;
    return r;
}

/* math.expm1, as math.exp. */
static inline double
m_expm1(double x, int *bad)
{
    double r = expm1(x);
    if (!isfinite(x) || !isfinite(r))
        *bad = 1;
    return r;
}

/* math.log: libm log for positive finite input (ValueError at 0 and below). */
static inline double
m_log(double x, int *bad)
{
    if (!(x > 0.0 && isfinite(x))) {
        *bad = 1;
        return 0.0;
    }
    return log(x);
}

/* math.log1p: CPython returns x itself at +-0.0, else libm log1p (ValueError at -1 and below). */
static inline double
m_log1p(double x, int *bad)
{
    if (!(x > -1.0 && isfinite(x))) {
        *bad = 1;
        return 0.0;
    }
    return x == 0.0 ? x : log1p(x);
}

/* float ** float: libm pow for a positive finite base and finite exponent (CPython's special
   cases are all elsewhere), OverflowError where the result overflows. */
static inline double
m_pow(double x, double y, int *bad)
{
    if (!(x > 0.0 && isfinite(x) && isfinite(y))) {
        *bad = 1;
        return 0.0;
    }
    double r = pow(x, y);
    if (!isfinite(r))
        *bad = 1;
    return r;
}

/* a / b for floats: ZeroDivisionError in Python where b is zero. */
static inline double
m_div(double a, double b, int *bad)
{
    if (b == 0.0) {
        *bad = 1;
        return 0.0;
    }
    return a / b;
}

/* math.floor of a float, as an integer: OverflowError or ValueError where not finite; left to
   Python also beyond 2**53, where the int would not convert back to the same double. */
static inline long long
m_floor(double x, int *bad)
{
    double r = floor(x);
    if (!(fabs(r) < 9007199254740992.0)) {
        *bad = 1;
        return 0;
    }
    return (long long)r;
}

#define EXP(x) m_exp((x), &bad)
#define EXPM1(x) m_expm1((x), &bad)
#define LOG(x) m_log((x), &bad)
#define LOG1P(x) m_log1p((x), &bad)
#define POW(x, y) m_pow((x), (y), &bad)
#define DIV(a, b) m_div((a), (b), &bad)
#define FLOOR(x) m_floor((x), &bad)
/* read obj.<n> into a local, or hand the call to Python */
#define GET(obj, n, out) do { if (get((obj), N_##n, &(out))) goto fallback; } while (0)
#define ARG(i, out) do { if (as_double(args[i], &(out))) goto fallback; } while (0)
#define SET(obj, n, value) do { if (set((obj), N_##n, (value)) < 0) goto error; } while (0)

static PyObject *
call_python(PyObject *function, PyObject *const *args, Py_ssize_t nargs)
{
    if (function == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ixsim.sim._ckernel: bind() was not called");
        return NULL;
    }
    fallbacks++;
    return PyObject_Vectorcall(function, args, (size_t)nargs, NULL);
}

/* C form of kernel.price_performance(c, year); same operations in the same order: the two
   capped_log_growth terms (soft minimum of growth and ceiling, less its value at the start year,
   which the Python form memoises and this one recomputes: the same value). */
static PyObject *
price_performance(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int bad = 0;
    if (nargs != 2)
        goto fallback;
    PyObject *c = args[0];
    double year, start_year, log_p, growth_at[2], ceiling_at[2];
    ARG(1, year);
    GET(c, start_year, start_year);
    GET(c, log_flop_per_s_per_usd_2023, log_p);
    GET(c, log_price_performance_growth, growth_at[0]);
    GET(c, log_price_performance_ceiling, ceiling_at[0]);
    GET(c, log_utilisation_growth, growth_at[1]);
    GET(c, log_utilisation_ceiling, ceiling_at[1]);
    double p = SHARPNESS, tau = year - start_year;
    for (int i = 0; i < 2; i++) {
        double x = growth_at[i] * tau, ceiling = ceiling_at[i];
        if (ceiling <= 0.0 || x <= 0.0) {
            log_p += ceiling <= 0.0 ? (0.0 < x ? 0.0 : x) /* min(x, 0.0) */ : x;
            continue;
        }
        double a = -p * x, b = -p * ceiling, top, low;
        if (a >= b) { top = a; low = b; } else { top = b; low = a; }
        double soft = DIV(-(top + LOG1P(EXP(low - top))), p);
        if (0.0 >= b) { top = 0.0; low = b; } else { top = b; low = 0.0; }
        double at_start = DIV(-(top + LOG1P(EXP(low - top))), p);
        log_p += soft - at_start;
    }
    double result = EXP(log_p);
    if (bad)
        goto fallback;
    return PyFloat_FromDouble(result);
fallback:
    return call_python(py_price_performance, args, nargs);
}

/* The float items of a tuple into out[] (at most max); -1 unless a tuple of exact floats. */
static Py_ssize_t
float_items(PyObject *tuple, double *out, Py_ssize_t max)
{
    if (!PyTuple_CheckExact(tuple) || PyTuple_GET_SIZE(tuple) > max)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    for (Py_ssize_t i = 0; i < n; i++)
        if (as_double(PyTuple_GET_ITEM(tuple, i), &out[i]))
            return -1;
    return n;
}

/* obj.<name>'s float items (a tuple), as float_items; -1 (error cleared) if missing. */
static Py_ssize_t
get_items(PyObject *obj, int n, double *out, Py_ssize_t max)
{
    PyObject *v = PyObject_GetAttr(obj, name[n]);
    if (v == NULL) {
        PyErr_Clear();
        return -1;
    }
    Py_ssize_t count = float_items(v, out, max);
    Py_DECREF(v);
    return count;
}

#define MAX_CATEGORIES 64

/* C form of kernel.review_needs(c, log_fit); same operations in the same order: cap.review_need
   (a softplus of the unautomated share, capped at 1) for each R&D category, then for review. */
static PyObject *
review_needs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int bad = 0;
    if (nargs != 2)
        goto fallback;
    PyObject *c = args[0];
    double log_fit, lo[MAX_CATEGORIES + 1], hi[MAX_CATEGORIES + 1], review[2];
    ARG(1, log_fit);
    Py_ssize_t n_lo = get_items(c, N_log_task_hours_min, lo, MAX_CATEGORIES);
    Py_ssize_t n_hi = get_items(c, N_log_task_hours_max, hi, MAX_CATEGORIES);
    if (n_lo < 0 || n_hi < 0 || get_items(c, N_log_review_hours, review, 2) != 2)
        goto fallback;
    Py_ssize_t n = n_lo < n_hi ? n_lo : n_hi; /* zip */
    lo[n] = review[0];
    hi[n] = review[1];
    double softness = REVIEW_SOFTNESS, needs[MAX_CATEGORIES + 1];
    for (Py_ssize_t i = 0; i <= n; i++) {
        double x = DIV(1.0 - DIV(log_fit - lo[i], hi[i] - lo[i]), softness);
        double need = softness * (x > 0 ? x + LOG1P(EXP(-x)) : LOG1P(EXP(x)));
        needs[i] = need < 1.0 ? need : 1.0;
    }
    if (bad)
        goto fallback;
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyFloat_FromDouble(needs[i]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return Py_BuildValue("(Nd)", list, needs[n]);
fallback:
    return call_python(py_review_needs, args, nargs);
}

/* C form of kernel.plan_spending(c, state, year, world_product, next_year, next_world_product);
   same operations in the same order: two spend_rule calls (soft_max of the exogenous path and
   reinvested revenue, soft_min with the GWP share), each bounded by build-out. */
static PyObject *
plan_spending(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int bad = 0;
    if (nargs != 6)
        goto fallback;
    PyObject *c = args[0], *state = args[1];
    double when_at[2], world_at[2];
    ARG(2, when_at[0]);
    ARG(3, world_at[0]);
    ARG(4, when_at[1]);
    ARG(5, world_at[1]);
    double p = SHARPNESS, ramp, share, revenue, spend0, g, entered, spend, max_share;
    GET(c, spend_ramp_per_step, ramp);
    GET(c, revenue_reinvestment_share, share);
    GET(state, revenue, revenue);
    GET(state, spend0, spend0);
    GET(c, log_spend_growth, g);
    GET(state, entered_year, entered);
    GET(state, spend_now, spend);
    GET(c, max_spend_share_of_gwp, max_share);
    double revenue_part = share * revenue;
    double path[2];
    for (int i = 0; i < 2; i++) {
        double ln_growth = g * (when_at[i] - entered);
        if (MAX_LN_GROWTH < ln_growth) /* min(ln_growth, MAX_LN_GROWTH) */
            ln_growth = MAX_LN_GROWTH;
        double base = spend0 * EXP(ln_growth);
        double wanted, planned, a, b, top, low;
        if (base <= 0.0 || revenue_part <= 0.0) { /* max(base, revenue_part, 0.0) */
            wanted = base;
            if (revenue_part > wanted)
                wanted = revenue_part;
            if (0.0 > wanted)
                wanted = 0.0;
        }
        else { /* soft_max(base, revenue_part) */
            a = p * LOG(base);
            b = p * LOG(revenue_part);
            if (a >= b) { top = a; low = b; } else { top = b; low = a; }
            wanted = EXP(DIV(top + LOG1P(EXP(low - top)), p));
        }
        double supply = max_share * world_at[i];
        if (wanted <= 0.0) /* soft_min(wanted, supply) */
            planned = 0.0;
        else if (!isfinite(supply))
            planned = wanted;
        else {
            a = -p * LOG(wanted);
            b = -p * LOG(supply);
            if (a >= b) { top = a; low = b; } else { top = b; low = a; }
            planned = EXP(DIV(-(top + LOG1P(EXP(low - top))), p));
        }
        double bound = spend * ramp;
        spend = bound < planned ? bound : planned; /* min(planned, bound) */
        path[i] = spend;
    }
    if (bad)
        goto fallback;
    SET(state, spend_now, path[0]);
    SET(state, spend_next, path[1]);
    Py_RETURN_NONE;
fallback:
    return call_python(py_plan_spending, args, nargs);
error:
    return NULL;
}

/* C form of kernel.step_lab(c, state, year, p_now, p_next, humans, spill_rate, spill_slope,
   price_multiplier, stock_cap); same operations in the same order: hand_over's two moves in
   logs, the compute stock's step and integral, the software integrator's sub-steps with the
   research input at the top of each, then update_research_outputs. The state is written only
   at the end (the Python form reads none of the attributes it writes before). */
static PyObject *
step_lab(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int bad = 0;
    PyObject *crossings = NULL;
    if (nargs != 10)
        goto fallback;
    PyObject *c = args[0], *state = args[1];
    double year, p_now, p_next, humans, spill_rate, spill_slope;
    ARG(2, year);
    ARG(3, p_now);
    ARG(4, p_next);
    ARG(5, humans);
    ARG(6, spill_rate);
    ARG(7, spill_slope);

    /* -- continuous.hand_over: review need and R&D handover toward their targets */
    double factor, value, target, need, handover, left, current;
    GET(c, handover_floor_per_step, factor);
    GET(state, review_need, value);
    GET(state, review_need_target, target);
    if (target >= value || value <= 0.0)
        need = target;
    else if (target <= 0.0)
        need = value * factor;
    else {
        need = value * factor;
        need = target >= need ? target : need;
    }
    GET(state, rnd_handover_target, target);
    GET(state, rnd_handover, current);
    if (target <= 0.0)
        handover = 0.0;
    else if (current <= 0.0)
        handover = target;
    else {
        value = 1.0 - current;
        target = 1.0 - target;
        if (target >= value || value <= 0.0)
            left = target;
        else if (target <= 0.0)
            left = value * factor;
        else {
            left = value * factor;
            left = target >= left ? target : left;
        }
        handover = 1.0 - left;
    }
    double dt, spend_now, spend_next, stock, depreciation;
    GET(c, dt, dt);
    /* -- compute: purchases, then compute.stock_step */
    GET(state, spend_now, spend_now);
    GET(state, spend_next, spend_next);
    GET(state, stock, stock);
    GET(c, depreciation, depreciation);
    double buy_now = spend_now * p_now, buy_next = spend_next * p_next;
    int capped = 0;
    double capped_spend0 = 0.0;
    PyObject *controls_obj = PyObject_GetAttr(c, name[N_export_controls]);
    if (controls_obj == NULL) {
        PyErr_Clear();
        goto fallback;
    }
    int controls = PyObject_IsTrue(controls_obj);
    Py_DECREF(controls_obj);
    if (controls < 0) {
        PyErr_Clear();
        goto fallback;
    }
    if (controls) {
        double price, stock_cap;
        ARG(8, price);
        ARG(9, stock_cap);
        buy_now = DIV(buy_now, price);
        buy_next = DIV(buy_next, price);
        if (stock >= stock_cap) {
            buy_now = buy_next = depreciation * stock_cap;
            capped_spend0 = DIV(buy_now * price, p_now);
            capped = 1;
        }
    }
    double g = (buy_now > 0 && buy_next > 0) ? DIV(LOG(DIV(buy_next, buy_now)), dt) : 0.0;
    double rel = g + depreciation;
    double x = rel * dt;
    double decay_step, decay_half, decay;
    GET(c, decay_over_step, decay_step);
    GET(c, decay_over_half_step, decay_half);
    GET(c, decayed_share_integral, decay);
    double end = decay_step * (stock + buy_now * ((-PHI_TINY < x && x < PHI_TINY)
                                                  ? dt * (1.0 + 0.5 * x)
                                                  : DIV(EXPM1(x), rel)));
    double half = dt / 2;
    x = rel * half;
    double mid = decay_half * (stock + buy_now * ((-PHI_TINY < x && x < PHI_TINY)
                                                  ? half * (1.0 + 0.5 * x)
                                                  : DIV(EXPM1(x), rel)));
    double ramp;
    if (-REL_MIN < rel && rel < REL_MIN) {
        x = -depreciation;
        ramp = fabs(x * dt) < 1e-9 ? dt * dt / 2
                                   : DIV(EXP(x * dt) * (x * dt - 1) + 1, x * x);
    }
    else {
        x = g * dt;
        ramp = DIV(((-PHI_TINY < x && x < PHI_TINY) ? dt * (1.0 + 0.5 * x) : DIV(EXPM1(x), g))
                   - decay, rel);
    }
    double integral = stock * decay + buy_now * ramp;
    double share_inference, share_experiments, inference_rate, compute0;
    GET(state, share_inference, share_inference);
    GET(state, share_experiments, share_experiments);
    GET(c, inference_flop_per_s_per_researcher, inference_rate);
    GET(c, compute0, compute0);
    double ai_per_s = DIV(share_inference * mid, inference_rate);
    double compute_ratio = DIV(share_experiments * mid, compute0);

    /* -- software: advance_software, the research input evaluated at the top of each
       sub-step (research_labour, labour.review_limited, labour.task_labour,
       labour.research_input, software.growth_rate) */
    double rate_per_year, beta, ceiling, lam, psi, review_ratio, task_rho, labour0, w,
        compute_rho, u;
    GET(c, rate_per_year, rate_per_year);
    GET(c, beta, beta);
    GET(c, ln_software_ceiling, ceiling);
    GET(c, research_exponent, lam);
    GET(c, ai_parallel_exponent, psi);
    GET(c, review_ratio, review_ratio);
    GET(c, task_rho, task_rho);
    GET(c, labour0, labour0);
    GET(c, labour_weight, w);
    GET(c, compute_rho, compute_rho);
    GET(state, ln_software, u);
    double capacity = review_ratio * humans;
    if (bad)
        goto fallback;
    crossings = PyList_New(0);
    if (crossings == NULL)
        goto error;
    double remaining = dt, elapsed = 0.0, tiny = 1e-12 * dt;
    int have_before = 0, finished = 0;
    long long before = 0, after;
    double total, e_labour, ai_share = 0.0, serial = 0.0, e_input, own = 0.0, log_a, log_b,
        top, low, lse;
    value = 0.0;
    for (long long i = 0; i < MAX_SUBSTEPS_PER_STEP; i++) {
        /* research_labour: humans alone until the lab hands R&D work over */
        if (handover <= 0.0) {
            total = humans;
            e_labour = 0.0;
            ai_share = 0.0;
        }
        else {
            double ai = ai_per_s * EXP(u), reviewed, e_review, e_task;
            serial = ai > 0.0 ? POW(ai, psi) : 0.0;
            if (need <= NO_REVIEW_NEED || serial <= 0.0) { /* labour.review_limited */
                reviewed = serial;
                e_review = 1.0;
            }
            else {
                e_review = DIV(capacity, capacity + need * serial);
                reviewed = serial * e_review;
            }
            if (reviewed * (1.0 - handover) <= handover * humans) { /* task_labour, pooled */
                total = humans + reviewed;
                e_task = total > 0.0 ? DIV(reviewed, total) : 0.0;
            }
            else if (humans <= 0.0 || (-CD < task_rho && task_rho < CD)) {
                /* labour.task_labour's own branches: AI alone, with the unautomated tasks
                   undone (complements); the rest are Python's */
                if (humans <= 0.0 && task_rho < CD) {
                    total = 0.0;
                    e_task = 0.0;
                }
                else
                    goto fallback;
            }
            else { /* humans on the tasks AI cannot do: the CES of labour._ces */
                log_a = (1.0 - task_rho) * LOG(handover) + task_rho * LOG(reviewed);
                log_b = (1.0 - task_rho) * LOG1P(-handover) + task_rho * LOG(humans);
                if (log_a >= log_b) { top = log_a; low = log_b; } else { top = log_b; low = log_a; }
                lse = top + LOG1P(EXP(low - top));
                total = EXP(DIV(lse, task_rho));
                e_task = EXP(log_a - lse);
            }
            e_labour = psi * e_review * e_task;
            ai_share = e_task;
        }
        /* labour.research_input: labour and experiment compute */
        double labour_ratio = DIV(total, labour0);
        if (!(0.0 < w && w < 1.0 && labour_ratio > 0.0 && compute_ratio > 0.0)) {
            /* labour.research_input's own branches: one input alone, or a missing input that
               stops research where the inputs are complements (a paused lab's experiments);
               the rest are Python's */
            if (w >= 1.0) {
                value = labour_ratio;
                e_input = 1.0;
            }
            else if (w <= 0.0) {
                value = compute_ratio;
                e_input = 0.0;
            }
            else if (0.0 < w && w < 1.0 && (labour_ratio <= 0.0 || compute_ratio <= 0.0)
                     && compute_rho < CD) {
                value = 0.0;
                e_input = 0.0;
            }
            else
                goto fallback;
        }
        else if (-CD < compute_rho && compute_rho < CD) {
            value = EXP(w * LOG(labour_ratio) + (1 - w) * LOG(compute_ratio));
            e_input = w;
        }
        else {
            log_a = LOG(w) + compute_rho * LOG(labour_ratio);
            log_b = LOG1P(-w) + compute_rho * LOG(compute_ratio);
            if (log_a >= log_b) { top = log_a; low = log_b; } else { top = log_b; low = log_a; }
            lse = top + LOG1P(EXP(low - top));
            value = EXP(DIV(lse, compute_rho));
            e_input = EXP(log_a - lse);
        }
        /* software.growth_rate (its overflow case, software.overflow_rate, is Python's) */
        own = value <= 0.0 ? 0.0 : rate_per_year * POW(value, lam) * EXP(-beta * u);
        if (bad || own == INFINITY)
            goto fallback;
        /* advance_software proper */
        if (remaining <= tiny || u >= ceiling) {
            finished = 1;
            break;
        }
        double k = lam * (e_labour * e_input) - beta; /* software.rate_elasticity */
        double rate = own + spill_rate;
        if (rate <= 0.0) {
            finished = 1;
            break;
        }
        if (spill_rate != 0.0)
            k = DIV(k * own + spill_slope, rate);
        double h = rate * remaining <= MAX_DU_PER_SUBSTEP ? remaining
                                                          : DIV(MAX_DU_PER_SUBSTEP, rate);
        int exponential = -K_ZERO < k && k < K_ZERO; /* software.advance and time_to_reach */
        double next;
        if (exponential)
            next = u + rate * h;
        else {
            x = k * rate * h;
            next = x >= 1.0 ? INFINITY : u - DIV(LOG1P(-x), k);
        }
        if (next > ceiling)
            next = ceiling;
        if (!have_before) {
            before = FLOOR(u / LN10 + 1e-12);
            have_before = 1;
        }
        after = FLOOR(next / LN10 + 1e-12);
        if (bad)
            goto fallback;
        for (long long power = before + 1; power <= after; power++) { /* powers of ten crossed */
            double gap = (double)power * LN10 - u; /* software.time_to_reach */
            double reach = exponential ? DIV(gap, rate) : DIV(-EXPM1(-k * gap), k * rate);
            if (bad)
                goto fallback;
            PyObject *item = Py_BuildValue("(dL)", year + elapsed + reach, power);
            if (item == NULL)
                goto error;
            int rc = PyList_Append(crossings, item);
            Py_DECREF(item);
            if (rc < 0)
                goto error;
        }
        u = next;
        before = after;
        elapsed += h;
        remaining -= h;
    }
    if (!finished) /* Python raises its RuntimeError */
        goto fallback;

    /* -- update_research_outputs: the last evaluation above is at this u */
    double ai_researchers, reference_rate, multiplier;
    if (handover <= 0.0) {
        double copies = ai_per_s * EXP(u);
        ai_researchers = copies > 0.0 ? POW(copies, psi) : 0.0;
    }
    else
        ai_researchers = serial;
    GET(c, reference_rate, reference_rate);
    multiplier = reference_rate > 0 ? DIV(own, reference_rate) : 1.0;
    if (bad)
        goto fallback;

    /* the writes, as the Python form makes them */
    SET(state, review_need, need);
    SET(state, rnd_handover, handover);
    if (capped) {
        SET(state, spend0, capped_spend0);
        if (PyObject_SetAttr(state, name[N_entered_year], args[2]) < 0)
            goto error;
    }
    SET(state, growth, g);
    SET(state, ln_software, u);
    SET(state, stock, end);
    if (PyObject_SetAttr(state, name[N_humans], args[5]) < 0)
        goto error;
    SET(state, ai_researchers, ai_researchers);
    SET(state, research, value);
    SET(state, ai_share, ai_share);
    SET(state, unreviewed, ai_share * (1.0 - need));
    SET(state, multiplier, multiplier);
    PyObject *result = PyTuple_New(2);
    if (result == NULL)
        goto error;
    PyObject *integral_obj = PyFloat_FromDouble(integral);
    if (integral_obj == NULL) {
        Py_DECREF(result);
        goto error;
    }
    PyTuple_SET_ITEM(result, 0, integral_obj);
    PyTuple_SET_ITEM(result, 1, crossings); /* steals the reference */
    return result;
fallback:
    Py_XDECREF(crossings);
    return call_python(py_step_lab, args, nargs);
error:
    Py_XDECREF(crossings);
    return NULL;
}

/* bind(functions, constants): the Python forms to fall back on (a dict by name) and the laws'
   constants, as sim/kernel.py names them (a dict: the same numbers, never copied here). */
static PyObject *
bind(PyObject *module, PyObject *args)
{
    PyObject *functions, *consts;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &functions, &PyDict_Type, &consts))
        return NULL;
    struct { const char *key; PyObject **out; } forms[] = {
        {"step_lab", &py_step_lab}, {"plan_spending", &py_plan_spending},
        {"price_performance", &py_price_performance}, {"review_needs", &py_review_needs},
    };
    struct { const char *key; double *out; } table[] = {
        {"PHI_TINY", &PHI_TINY}, {"REL_MIN", &REL_MIN}, {"K_ZERO", &K_ZERO}, {"CD", &CD},
        {"NO_REVIEW_NEED", &NO_REVIEW_NEED}, {"MAX_LN_GROWTH", &MAX_LN_GROWTH},
        {"SATURATION_SHARPNESS", &SHARPNESS}, {"LN10", &LN10},
        {"MAX_DU_PER_SUBSTEP", &MAX_DU_PER_SUBSTEP}, {"REVIEW_SOFTNESS", &REVIEW_SOFTNESS},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        PyObject *f = PyDict_GetItemString(functions, forms[i].key);
        if (f == NULL || !PyCallable_Check(f)) {
            PyErr_Format(PyExc_ValueError, "bind: %s must be a function", forms[i].key);
            return NULL;
        }
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        PyObject *v = PyDict_GetItemString(consts, table[i].key);
        if (v == NULL || !PyFloat_CheckExact(v)) {
            PyErr_Format(PyExc_ValueError, "bind: %s must be a float", table[i].key);
            return NULL;
        }
        *table[i].out = PyFloat_AS_DOUBLE(v);
    }
    PyObject *n = PyDict_GetItemString(consts, "MAX_SUBSTEPS_PER_STEP");
    if (n == NULL || !PyLong_Check(n)) {
        PyErr_SetString(PyExc_ValueError, "bind: MAX_SUBSTEPS_PER_STEP must be an int");
        return NULL;
    }
    MAX_SUBSTEPS_PER_STEP = PyLong_AsLongLong(n);
    if (MAX_SUBSTEPS_PER_STEP == -1 && PyErr_Occurred())
        return NULL;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        PyObject *f = PyDict_GetItemString(functions, forms[i].key);
        Py_INCREF(f);
        Py_XSETREF(*forms[i].out, f);
    }
    Py_RETURN_NONE;
}

/* fallback_count(): how many calls so far were handed to the Python forms. */
static PyObject *
fallback_count(PyObject *module, PyObject *unused)
{
    return PyLong_FromSsize_t(fallbacks);
}

static PyMethodDef methods[] = {
    {"step_lab", (PyCFunction)(void (*)(void))step_lab, METH_FASTCALL,
     "C form of kernel.step_lab (same arguments, same results bit for bit)."},
    {"plan_spending", (PyCFunction)(void (*)(void))plan_spending, METH_FASTCALL,
     "C form of kernel.plan_spending (same arguments, same writes bit for bit)."},
    {"price_performance", (PyCFunction)(void (*)(void))price_performance, METH_FASTCALL,
     "C form of kernel.price_performance (same arguments, same result bit for bit)."},
    {"review_needs", (PyCFunction)(void (*)(void))review_needs, METH_FASTCALL,
     "C form of kernel.review_needs (same arguments, same results bit for bit)."},
    {"bind", bind, METH_VARARGS, "bind(functions, constants): the Python forms to fall back "
     "on and the laws' thresholds, by name."},
    {"fallback_count", fallback_count, METH_NOARGS,
     "Calls handed to the Python forms so far."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_ckernel",
    "C forms of sim/kernel.py's step_lab, plan_spending, price_performance and review_needs "
    "(optional; see sim/kernel.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__ckernel(void)
{
    for (int i = 0; i < N_COUNT; i++) {
        name[i] = PyUnicode_InternFromString(name_text[i]);
        if (name[i] == NULL)
            return NULL;
    }
    return PyModule_Create(&module_def);
}
