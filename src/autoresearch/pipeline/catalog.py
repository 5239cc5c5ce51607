"""The built-in slot implementations, per framework, and how a combo becomes code.

Every implementation is a package template (templates/<slot>/<name>.py.j2) rendered with its
parameters, so a combo's code is a plain, readable Python file a person can rerun.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import replace
from importlib.metadata import version
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from autoresearch.analysis.combo import Combo
from autoresearch.errors import UsageError
from autoresearch.pipeline.scoring import PROBA_METRICS
from autoresearch.pipeline.space import Implementation, Param, SearchSpace

SLOTS = ("load_data", "engineer_features", "build_model")
FRAMEWORKS = {"sklearn": "sklearn", "pytorch": "torch", "keras": "keras",
              "catboost": "catboost", "xgboost": "xgboost", "lightgbm": "lightgbm",
              "statsmodels": "statsmodels"}  # framework -> module it needs
_LR = Param("learning_rate", "log", 0.1, 0.01, 0.3)
TREES = {"engineer_features": "ordinal"}  # what tree models are first measured with


def _load() -> list[Implementation]:
    return [
        Implementation("load_data", "as_read", "as_read", template="load_data/as_read",
                       description="columns as read"),
        Implementation("load_data", "low_cardinality", "low_cardinality",
                       (Param("max_levels", "int", 10, 2, 20),),
                       template="load_data/low_cardinality",
                       description="numeric codes with few levels read as categories"),
        Implementation("load_data", "drop_sparse", "drop_sparse",
                       (Param("max_missing", "float", 0.5, 0.2, 0.9),),
                       template="load_data/drop_sparse",
                       description="drop constant and mostly-missing columns"),
    ]


def _features() -> list[Implementation]:
    onehot = {"scaler": "StandardScaler", "scaler_call": "StandardScaler()",
              "scaler_doc": "standardised", "extra_doc": "", "select": False, "pca": False}
    quantile = {**onehot, "scaler": "QuantileTransformer",
                "scaler_call": 'QuantileTransformer(n_quantiles=100, output_distribution='
                               '"normal", random_state=problem.seed)',
                "scaler_doc": "mapped to normal quantiles"}
    return [
        Implementation("engineer_features", "onehot_standard", "onehot",
                       template="engineer_features/onehot", context=onehot),
        Implementation("engineer_features", "ordinal", "ordinal",
                       template="engineer_features/ordinal", context={"scale": False}),
        Implementation("engineer_features", "target_encoding", "target",
                       (Param("smooth", "choice", "auto", choices=("auto", 1.0, 10.0)),),
                       template="engineer_features/target"),
        Implementation("engineer_features", "onehot_quantile", "onehot",
                       template="engineer_features/onehot", context=quantile),
        Implementation("engineer_features", "onehot_select", "onehot",
                       (Param("percentile", "int", 50, 10, 90),),
                       template="engineer_features/onehot",
                       context={**onehot, "select": True,
                                "extra_doc": "; the best-scoring share of features kept"}),
        Implementation("engineer_features", "onehot_pca", "onehot",
                       (Param("variance", "float", 0.95, 0.8, 0.99),),
                       template="engineer_features/onehot",
                       context={**onehot, "pca": True,
                                "extra_doc": "; projected on the principal components"}),
        Implementation("engineer_features", "ordinal_standard", "ordinal",
                       template="engineer_features/ordinal", context={"scale": True}),
    ]


def _sklearn() -> list[Implementation]:
    trees = (Param("n_estimators", "int", 300, 100, 600),
             Param("max_features", "choice", "sqrt", choices=("sqrt", 0.5, 1.0)),
             Param("min_samples_leaf", "int", 1, 1, 10))
    return [
        Implementation("build_model", "linear", "linear", (Param("C", "log", 1.0, 1e-3, 1e2),),
                       cost=1, template="build_model/linear"),
        Implementation("build_model", "hist_gb", "boosting",
                       (_LR, Param("max_iter", "int", 100, 50, 500),
                        Param("max_leaf_nodes", "int", 31, 8, 64),
                        # Small leaves by default (scikit-learn's is 20): tables of a few
                        # thousand rows often hold rare but exact patterns.
                        Param("min_samples_leaf", "int", 5, 1, 40),
                        Param("l2_regularization", "float", 0.0, 0.0, 1.0)),
                       cost=3, lead=True, pairs=TREES, template="build_model/hist_gb"),
        Implementation("build_model", "random_forest", "forest", trees,
                       cost=6, pairs=TREES, template="build_model/forest",
                       context={"cls": "RandomForestClassifier", "doc": "Random forest"}),
        Implementation("build_model", "svm", "kernel",
                       (Param("C", "log", 1.0, 0.1, 100.0),
                        Param("gamma", "choice", "scale", choices=("scale", "auto"))),
                       cost=5, template="build_model/svm"),
        Implementation("build_model", "knn", "neighbors",
                       (Param("n_neighbors", "int", 5, 1, 50),
                        Param("weights", "choice", "uniform", choices=("uniform", "distance"))),
                       cost=2, template="build_model/knn"),
        Implementation("build_model", "mlp", "neural",
                       (Param("hidden", "choice", "64", choices=("64", "128", "64x64")),
                        Param("alpha", "log", 1e-4, 1e-5, 1e-1),
                        Param("learning_rate_init", "log", 1e-3, 1e-4, 1e-2)),
                       cost=8, template="build_model/mlp"),
        Implementation("build_model", "naive_bayes", "bayes",
                       (Param("var_smoothing", "log", 1e-9, 1e-11, 1e-5),),
                       cost=1, template="build_model/naive_bayes"),
        Implementation("build_model", "gradient_boosting", "boosting",
                       (_LR, Param("n_estimators", "int", 200, 50, 500),
                        Param("max_depth", "int", 3, 2, 8),
                        Param("subsample", "float", 1.0, 0.5, 1.0)),
                       cost=5, pairs=TREES, template="build_model/gradient_boosting"),
        Implementation("build_model", "extra_trees", "forest", trees,
                       cost=6, pairs=TREES, template="build_model/forest",
                       context={"cls": "ExtraTreesClassifier", "doc": "Extremely randomised "
                                "trees"}),
    ]


def _net(name: str, template: str, family: str, layers: bool) -> Implementation:
    params = [Param("lr", "log", 1e-3, 1e-4, 1e-2), Param("epochs", "int", 40, 10, 150)]
    if layers:
        params += [Param("layers", "int", 2, 1, 3), Param("hidden", "int", 128, 32, 512),
                   Param("dropout", "float", 0.1, 0.0, 0.5)]
    fixed = {} if layers else {"layers": 0, "hidden": 0, "dropout": 0.0}
    extra = (Param("weight_decay", "log", 1e-4, 1e-6, 1e-2),) if template.endswith("torch") \
        else ()
    return Implementation("build_model", name, family, (*params, *extra), template=template,
                          context={"fixed": fixed})


def _others(framework: str, kind: str) -> list[Implementation]:
    rounds = Param("n_estimators", "int", 300, 50, 800)
    if framework == "xgboost":
        return [
            Implementation("build_model", "xgb_tree", "gbtree",
                           (rounds, _LR, Param("max_depth", "int", 6, 2, 10),
                            Param("subsample", "float", 1.0, 0.5, 1.0),
                            Param("colsample_bytree", "float", 1.0, 0.3, 1.0)),
                           lead=True, pairs=TREES, template="build_model/xgboost",
                           context={"linear": False}),
            Implementation("build_model", "xgb_linear", "gblinear",
                           (rounds, Param("learning_rate", "log", 0.3, 0.01, 1.0),
                            Param("reg_lambda", "log", 1.0, 1e-3, 10.0)),
                           template="build_model/xgboost", context={"linear": True}),
        ]
    if framework == "lightgbm":
        common = (rounds, _LR, Param("num_leaves", "int", 31, 8, 128),
                  Param("min_child_samples", "int", 20, 5, 50))
        return [Implementation("build_model", f"lgbm_{b}", b, common, lead=b == "gbdt",
                               pairs=TREES, template="build_model/lightgbm",
                               context={"boosting": b})
                for b in ("gbdt", "dart", "rf")]
    if framework == "catboost":
        common = (Param("iterations", "int", 300, 100, 1000), _LR,
                  Param("depth", "int", 6, 3, 10))
        return [Implementation("build_model", f"catboost_{p.lower()}", p.lower(), common,
                               pairs=TREES, template="build_model/catboost", context={"policy": p})
                for p in ("SymmetricTree", "Depthwise", "Lossguide")]
    if framework == "pytorch":
        return [_net("torch_mlp", "build_model/torch", "mlp", True),
                _net("torch_linear", "build_model/torch", "linear", False)]
    if framework == "keras":
        return [_net("keras_mlp", "build_model/keras", "mlp", True),
                _net("keras_linear", "build_model/keras", "linear", False)]
    if framework == "statsmodels":
        alpha = (Param("alpha", "log", 1e-4, 1e-6, 1.0),)
        glm = Implementation("build_model", "sm_glm", "glm", alpha,
                             template="build_model/statsmodels",
                             context={"link": "Logit", "robust": False,
                                      "doc": "regularised GLM (logit link / gaussian)"})
        if kind == "classification":
            return [glm, Implementation("build_model", "sm_probit", "probit", alpha,
                                        template="build_model/statsmodels",
                                        context={"link": "Probit", "robust": False,
                                                 "doc": "regularised probit GLM"})]
        return [glm, Implementation("build_model", "sm_robust", "robust",
                                    template="build_model/statsmodels",
                                    context={"link": "Logit", "robust": True,
                                             "doc": "robust linear model (Huber)"})]
    raise UsageError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORKS)}")


def _regression(impl: Implementation) -> Implementation:
    """The regression form of a classification implementation."""
    context = dict(impl.context)
    if "cls" in context:
        context["cls"] = context["cls"].replace("Classifier", "Regressor")
    if impl.name == "naive_bayes":
        return replace(impl, name="bayesian_ridge", params=(), context=context)
    return replace(impl, context=context)


def require(framework: str) -> None:
    module = FRAMEWORKS.get(framework)
    if module is None:
        raise UsageError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORKS)}")
    if importlib.util.find_spec(module) is None:
        raise UsageError(f"--framework {framework} needs the {module} package; install it with "
                         "`pip install 'autoresearch[tabular]'`")


def space_for(framework: str, kind: str) -> SearchSpace:
    require(framework)
    models = _sklearn() if framework == "sklearn" else _others(framework, kind)
    if kind == "regression":
        models = [_regression(i) for i in models]
    return SearchSpace(slots=SLOTS, implementations=(*_load(), *_features(), *models),
                       model_slot="build_model", coverage=("engineer_features", "build_model"),
                       fixed={"evaluate": "repeated stratified k-fold CV + sealed holdout"})


class Renderer:
    """Combo -> the code of its pipeline file, through the package templates."""

    def __init__(self, space: SearchSpace, framework: str, kind: str, metric: str) -> None:
        self.space, self.framework = space, framework
        self.globals = {"classification": kind == "classification",
                        "proba": metric in PROBA_METRICS,
                        "target_encoder_splitter": _target_encoder_takes_splitter()}
        self.env = Environment(loader=PackageLoader("autoresearch.pipeline", "templates"),
                               undefined=StrictUndefined, keep_trailing_newline=True,
                               autoescape=False)
        self.env.filters["py"] = _py

    def slot_source(self, combo: Combo, slot: str) -> str:
        if slot in combo.sources:
            return combo.sources[slot].strip() + "\n"
        impl = self.space.get(slot, combo.slots[slot])
        if impl is None:
            raise UsageError(f"no implementation {combo.slots[slot]!r} for slot {slot!r}")
        if impl.code:
            return impl.code.strip() + "\n"
        context = dict(impl.context)
        fixed = context.pop("fixed", {})
        params = {**impl.defaults(), **fixed, **combo.params_of(slot)}
        template = self.env.get_template(f"{impl.template}.py.j2")
        return template.render(p=params, **self.globals, **context).strip() + "\n"

    def render(self, combo: Combo) -> str:
        sources = {slot: self.slot_source(combo, slot).rstrip() for slot in SLOTS}
        return self.env.get_template("combo.py.j2").render(
            summary=combo.describe(), framework=self.framework, **sources)


def _target_encoder_takes_splitter() -> bool:
    """scikit-learn 1.9 takes a CV splitter for TargetEncoder's cross-fitting and deprecates
    its `shuffle` and `random_state` (gone in 1.11); before 1.9 it takes a fold count only.
    Both cross-fit on the same folds."""
    found = re.match(r"(\d+)\.(\d+)", version("scikit-learn"))
    return found is not None and (int(found[1]), int(found[2])) >= (1, 9)


def _py(value: Any) -> str:
    return repr(value)
